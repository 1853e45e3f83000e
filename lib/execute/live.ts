/**
 * Applies a {@linkcode Plan} against S3: moves (copies, each recorded at once), then
 * uploads, then every delete — the sources of the moves and the keys of vanished files —
 * in DeleteObjects batches. Each success is recorded as it happens, so that a run that is
 * killed at any moment leaves a state the next run completes. A dry run swaps in
 * `DryRunExecutor`, which reports the same actions and does nothing.
 *
 * @module
 */
import type { DeleteAction, Plan, StateRecorder } from "../model.ts";
import { TEMP_FOLDER } from "../model.ts";
import type { ObjectStore } from "../s3/store.ts";
import type { ScanFs } from "../scan/scan_fs.ts";
import { systemFs } from "../scan/system_fs.ts";
import { deleteInBatches } from "./deletes.ts";
import {
  emptyOutcome,
  type ExecutionReporter,
  type Executor,
  type Outcome,
  recordFailure,
  totalsOf,
} from "./executor.ts";
import { runMoves } from "./moves.ts";
import { runUploads } from "./uploads.ts";

/** Options of {@linkcode LiveExecutor}. */
export interface LiveExecutorOptions {
  /** The bucket. */
  store: ObjectStore;
  /** Where successes are recorded. */
  recorder: StateRecorder;
  /** Key prefix ("" or ending in "/"). */
  prefix: string;
  /** The local directory, to read files from. */
  root: string;
  /** Uploads in flight at most. */
  concurrency: number;
  /** Server-side copies and DeleteObjects in flight at most (default 64). */
  moveConcurrency?: number;
  /** Storage class for uploads. */
  storageClass?: string;
  /** Told about each completed action. */
  reporter?: ExecutionReporter;
  /** Makes a temporary key (relative to the prefix) for swaps. */
  tempKey?: () => string;
  /** `moves`: never upload (a move that cannot be made is left to the uploader). */
  movesOnly?: boolean;
  /** How files are checked before and after they are read (default: the real one). */
  fs?: Pick<ScanFs, "lstat">;
}

/**
 * Carries out a plan against S3 and records what succeeded.
 *
 * @example
 * ```ts
 * import { MemoryUploadQueue } from "../plan/upload_queue.ts";
 * import { MemoryStore } from "../s3/memory_store.ts";
 * import { NullRecorder } from "../state/recorder.ts";
 *
 * const executor = new LiveExecutor({
 *   store: new MemoryStore(),
 *   recorder: new NullRecorder(),
 *   prefix: "photos/",
 *   root: "/volume1/photos",
 *   concurrency: 10,
 * });
 * const outcome = await executor.execute({
 *   moves: [], uploads: new MemoryUploadQueue(), deletes: [], record: { upsert: [], forget: [] },
 *   unchanged: 0, adopted: 0, inodeUpdates: 0, skipped: [], deferred: [], waiting: [],
 * });
 * console.log(outcome.moves.length); // 0
 * ```
 */
export class LiveExecutor implements Executor {
  constructor(private readonly options: LiveExecutorOptions) {}

  async execute(plan: Plan): Promise<Outcome> {
    const { store, prefix, recorder, reporter } = this.options;
    const outcome = emptyOutcome();
    outcome.waiting += plan.waiting.length;
    recorder.apply(plan.record);
    reporter?.planned?.(totalsOf(plan));
    const moveConcurrency = this.options.moveConcurrency ?? 64;
    const moves = await runMoves(plan.moves, {
      store,
      prefix,
      recorder,
      reporter,
      outcome,
      concurrency: moveConcurrency,
      tempKey: this.options.tempKey ?? (() => `${TEMP_FOLDER}${crypto.randomUUID()}`),
      movesOnly: this.options.movesOnly ?? false,
    });
    await runUploads(withFallbacks(plan, moves.fallbackUploads), {
      store,
      prefix,
      root: this.options.root,
      recorder,
      reporter,
      outcome,
      concurrency: this.options.concurrency,
      storageClass: this.options.storageClass,
      held: moves.held,
      fs: this.options.fs ?? systemFs,
    });
    const sources = new Set(moves.sourceDeletes);
    await deleteInBatches<DeleteAction>([...moves.sourceDeletes, ...plan.deletes], {
      store,
      prefix,
      keyOf: (action) => action.key,
      concurrency: Math.min(8, moveConcurrency),
      deleted: (actions) => {
        // Rows that waited for their key to be deleted (moved sources, leftovers) go now.
        const finished = actions.filter((action) => action.temporary).map((action) => action.key);
        recorder.apply({ forgetMoved: finished });
        for (const action of actions) {
          if (sources.has(action)) continue;
          outcome.deletes++;
          reporter?.deleted?.(action);
        }
      },
      failed: (action, message) =>
        recordFailure(outcome, {
          action: sources.has(action) ? "move" : "delete",
          key: action.key,
          message: sources.has(action)
            ? `Copied "${action.key}" (${action.reason}) but could not delete it: ${message}; the next run deletes it`
            : `Cannot delete "${action.key}": ${message}`,
          kind: "error",
        }, reporter),
    });
    plan.uploads.close();
    return outcome;
  }
}

function* withFallbacks(plan: Plan, fallbacks: Plan["waiting"]) {
  yield* plan.uploads.batches();
  if (fallbacks.length > 0) yield fallbacks;
}
