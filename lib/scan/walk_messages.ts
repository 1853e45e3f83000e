/**
 * The messages between `startScan` (stream.ts) and its worker (walk_worker.ts).
 *
 * The worker may post `maxBatchesInFlight` batches that the consumer has not taken; the
 * stream sends one `credit` for each batch the consumer takes, and the worker waits for
 * credit before it posts more. So however slow the consumer, at most that many batches
 * (plus the one the worker is filling) are in memory.
 *
 * @module
 */
import type { PackedBatch } from "./batch_pack.ts";

/**
 * From the stream to the worker.
 *
 * @example
 * ```ts
 * const start: ToWalkWorker = {
 *   type: "start",
 *   root: "/volume1/photos",
 *   batchSize: 4000,
 *   maxBatchesInFlight: 4,
 * };
 * ```
 */
export type ToWalkWorker =
  | { type: "start"; root: string; batchSize: number; maxBatchesInFlight: number }
  | { type: "credit" };

/**
 * From the worker to the stream.
 *
 * @example
 * ```ts
 * const done: FromWalkWorker = { type: "done", rootDev: 2049, directories: 12 };
 * ```
 */
export type FromWalkWorker =
  | { type: "batch"; batch: PackedBatch }
  | { type: "done"; rootDev: number; directories: number }
  | { type: "error"; name: string; message: string };
