/**
 * Applies a {@linkcode Plan} against S3: moves (copies, each recorded at once) and, at
 * the same time, uploads (those to a key a move reads from wait for the moves), then
 * every delete — the sources of the moves and the keys of vanished files — in
 * DeleteObjects batches. Each success is recorded as it happens, so that a run that is
 * killed at any moment leaves a state the next run completes. A dry run swaps in
 * `DryRunExecutor`, which reports the same actions and does nothing.
 *
 * @module
 */
import type { DeleteAction, Plan, StateRecorder, UploadAction } from "../model.ts";
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
  /**
   * Set when the run is interrupted: nothing new starts, uploads under way stop, copies
   * under way finish and are recorded.
   */
  signal?: AbortSignal;
  /** Check each move's source before its copy (see `MovesContext.checkSources`). */
  checkSources?: boolean;
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
    const timed = async <T>(phase: string, work: Promise<T>): Promise<T> => {
      const start = performance.now();
      try {
        return await work;
      } finally {
        outcome.phaseMs[phase] = Math.round(
          (outcome.phaseMs[phase] ?? 0) + performance.now() - start,
        );
      }
    };
    const uploadContext = {
      store,
      prefix,
      root: this.options.root,
      recorder,
      reporter,
      outcome,
      concurrency: this.options.concurrency,
      storageClass: this.options.storageClass,
      held: new Set<string>(),
      fs: this.options.fs ?? systemFs,
      signal: this.options.signal,
    };
    // Uploads run while the copies do (copies cost the link nothing), except those to a
    // key a move reads from: they wait until the moves say whether that key is free.
    const readByMoves = new Set(plan.moves.map((move) => move.from));
    const afterMoves: UploadAction[] = [];
    const movesDone = timed(
      "moves",
      runMoves(plan.moves, {
        store,
        prefix,
        recorder,
        reporter,
        outcome,
        concurrency: moveConcurrency,
        tempKey: this.options.tempKey ?? (() => `${TEMP_FOLDER}${crypto.randomUUID()}`),
        movesOnly: this.options.movesOnly ?? false,
        signal: this.options.signal,
        checkSources: this.options.checkSources,
      }),
    );
    const uploadsDone = timed(
      "uploads",
      runUploads(aside(plan.uploads.batches(), readByMoves, afterMoves), uploadContext),
    );
    const [moved, uploadedFirst] = await Promise.allSettled([movesDone, uploadsDone]);
    if (moved.status === "rejected") throw moved.reason;
    if (uploadedFirst.status === "rejected") throw uploadedFirst.reason;
    const moves = moved.value;
    const uploaded = new Set<string>();
    await timed(
      "uploads",
      runUploads([afterMoves, moves.fallbackUploads], {
        ...uploadContext,
        held: moves.held,
        uploaded,
      }),
    );
    // The sources of moves the server could not copy go once their file is up, as a
    // move's source goes once its copy is made (marked first, for a run that dies now).
    const replaced = moves.uncopied.filter((move) => uploaded.has(move.to));
    recorder.apply({ moved: replaced.map((move) => ({ path: move.from, to: move.to })) });
    moves.sourceDeletes.push(...replaced.map((move) => ({
      key: move.from,
      size: move.size,
      reason: `uploaded to "${move.to}": the server could not copy it`,
      temporary: true,
    })));
    const sources = new Set(moves.sourceDeletes);
    await timed(
      "deletes",
      deleteInBatches<DeleteAction>([...moves.sourceDeletes, ...plan.deletes], {
        store,
        prefix,
        keyOf: (action) => action.key,
        concurrency: Math.min(8, moveConcurrency),
        signal: this.options.signal,
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
      }),
    );
    plan.uploads.close();
    return outcome;
  }
}

/**
 * The batches of uploads, without those whose key is in `keys`, which are put in
 * `aside` instead.
 */
function* aside(
  batches: Iterable<UploadAction[]>,
  keys: ReadonlySet<string>,
  set: UploadAction[],
): Generator<UploadAction[]> {
  for (const batch of batches) {
    if (keys.size === 0) {
      yield batch;
      continue;
    }
    const now = batch.filter((action) => !keys.has(action.key));
    for (const action of batch) if (keys.has(action.key)) set.push(action);
    if (now.length > 0) yield now;
  }
}
