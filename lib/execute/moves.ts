/**
 * Server-side moves: each copy conditional on the source's ETag and recorded as soon as it
 * succeeded (the destination's row, and the source's row marked as moved), so that the
 * sources can be deleted later in DeleteObjects batches without a dead run losing or
 * leaking anything. Chains run in dependency order, cycles through a temporary key;
 * independent moves run at their own, high concurrency.
 *
 * @module
 */
import type {
  DeferredMove,
  DeleteAction,
  FileRecord,
  MoveAction,
  MoveStep,
  StateRecorder,
  UploadAction,
} from "../model.ts";
import { recordOf, TEMP_FOLDER } from "../model.ts";
import { orderMoves } from "../plan/move_order.ts";
import { runPool } from "../pool.ts";
import {
  describeCopyError,
  isArchivedError,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
} from "../s3/errors.ts";
import type { CopyResult, ObjectStore } from "../s3/store.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";
import { countMove, type ExecutionReporter, type Outcome, recordFailure } from "./executor.ts";

/** What the moves need. */
export interface MovesContext {
  /** The bucket. */
  store: ObjectStore;
  /** Key prefix ("" or ending in "/"). */
  prefix: string;
  /** Where each copy is recorded. */
  recorder: StateRecorder;
  /** Told about each copy, deferral and failure. */
  reporter?: ExecutionReporter;
  /** Filled in as moves complete, fail or wait. */
  outcome: Outcome;
  /** Copies in flight at most. */
  concurrency: number;
  /** Makes a temporary key (relative to the prefix) for cycles. */
  tempKey(): string;
  /** `moves` makes no uploads: a move that cannot be made is left to the uploader. */
  movesOnly: boolean;
  /** Set when the run is interrupted: no move starts; copies under way finish. */
  signal?: AbortSignal;
  /**
   * Check each source (HeadObject with If-Match) before its copy: the ETags come from the
   * state, not a listing, and the server may ignore the copy's own precondition.
   */
  checkSources?: boolean;
}

/** What the moves leave for the rest of the run. */
export interface MovesResult {
  /** Sources whose copy is recorded: their keys are deleted with the other deletes. */
  sourceDeletes: DeleteAction[];
  /** Keys that still hold the only copy of something (a move failed or waits there). */
  held: Set<string>;
  /** Files uploaded instead of moved: their source changed or vanished in S3. */
  fallbackUploads: UploadAction[];
  /**
   * Moves the server could not copy (501): their source key still holds the file's old
   * copy, to be deleted once the file is up under its new key.
   */
  uncopied: Array<{ from: string; to: string; size: number }>;
}

/**
 * Makes the moves of a plan (copies and records; the source deletes are left to the
 * caller's delete batches).
 *
 * @throws {StoreUnreachableError} when S3 stopped answering.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 * import { NullRecorder } from "../state/recorder.ts";
 * import { emptyOutcome } from "./executor.ts";
 * const result = await runMoves([], {
 *   store: new MemoryStore(), prefix: "", recorder: new NullRecorder(),
 *   outcome: emptyOutcome(), concurrency: 64, tempKey: () => ".s3-smart-sync-tmp/1",
 *   movesOnly: false,
 * });
 * console.log(result.sourceDeletes.length); // 0
 * ```
 */
export async function runMoves(
  moves: readonly MoveAction[],
  context: MovesContext,
): Promise<MovesResult> {
  const result: MovesResult = {
    sourceDeletes: [],
    held: new Set(),
    fallbackUploads: [],
    uncopied: [],
  };
  const sequences = orderMoves(moves, context.tempKey);
  await runPool(sequences, {
    concurrency: context.concurrency,
    worker: (sequence) => runSequence(sequence, context, result),
    signal: context.signal,
  });
  return result;
}

/** Runs the steps of one sequence in order; each vacates the key the next one writes. */
async function runSequence(
  sequence: MoveStep[],
  context: MovesContext,
  result: MovesResult,
): Promise<void> {
  for (const [index, step] of sequence.entries()) {
    let copied: CopyResult | undefined;
    try {
      copied = step.copyDone ? {} : await copyStep(step, context);
    } catch (error) {
      if (error instanceof StoreUnreachableError) throw error;
      const later = sequence.slice(index + 1);
      handleCopyError(error, { step, later, lone: sequence.length === 1 }, context, result);
      return;
    }
    context.recorder.apply({
      upsert: [destinationRecord(step, sequence.at(-1)!, copied)],
      moved: [{ path: step.from, to: step.to }],
    });
    countMove(context.outcome, step, context.reporter);
    // The next step of a chain or cycle writes this source key again (orderMoves links
    // each step to the one before it so): nothing to delete.
    const rewritten = sequence[index + 1]?.to === step.from;
    const keep = !step.from.startsWith(TEMP_FOLDER) && (rewritten || step.keepSource);
    if (!keep) {
      result.sourceDeletes.push({
        key: step.from,
        size: step.size,
        reason: `moved to "${step.to}"`,
        temporary: true,
      });
    }
  }
}

function copyStep(step: MoveStep, context: MovesContext): Promise<CopyResult> {
  const { store, prefix, recorder } = context;
  return store.copy(prefix + step.from, prefix + step.to, {
    ifMatch: step.etag,
    storageClass: step.storageClass,
    sse: step.sse,
    size: step.size,
    checkSource: context.checkSources,
    onMultipart: (state) => recorder.multipart?.(prefix + step.to, state),
  });
}

/**
 * The row of a copy's destination: the file that ends up there (for a step into a
 * temporary key, the file at the end of the cycle), with what is known of the object.
 */
function destinationRecord(step: MoveStep, last: MoveStep, copied: CopyResult): FileRecord {
  const file = step.file ?? last.file!;
  const record = recordOf(file, step.to, true);
  const etag = copied.etag ?? step.etag;
  if (etag !== undefined) record.etag = etag;
  const storageClass = copied.storageClass ?? step.storageClass;
  if (storageClass !== undefined) record.storageClass = storageClass;
  const sse = copied.sse ?? step.sse;
  if (sse !== undefined) record.sse = sse;
  return record;
}

function handleCopyError(
  error: unknown,
  failed: { step: MoveStep; later: MoveStep[]; lone: boolean },
  context: MovesContext,
  result: MovesResult,
): void {
  const { step, later } = failed;
  const { outcome, reporter } = context;
  const sourceOf = (held: MoveStep) => held.originalFrom ?? held.from;
  if (isArchivedError(error)) {
    // Intelligent-Tiering archive tiers do not show in a listing: S3 says so here.
    const steps = [step, ...later.filter((next) => !next.viaTemp || next.file)];
    for (const [index, waiting] of steps.entries()) {
      const from = sourceOf(waiting);
      result.held.add(from);
      const deferred: DeferredMove = {
        from,
        to: waiting.to,
        size: waiting.size,
        reason: index === 0
          ? `source is archived (${(error as Error).name}) and must be restored first`
          : `waits for "${step.from}" to move first`,
      };
      if (waiting.storageClass !== undefined) deferred.storageClass = waiting.storageClass;
      outcome.deferred.push(deferred);
      reporter?.deferred?.(deferred);
    }
    return;
  }
  const notImplemented = isNotImplemented(error);
  const uncopiable = isNotFound(error) || isPreconditionFailed(error) || notImplemented;
  if (uncopiable && failed.lone && step.file) {
    // The source vanished or changed in S3 since it was listed (or recorded), or the
    // server cannot copy it (Ceph RGW and an SSE-KMS object): the file goes up as a new
    // one. A source that changed or vanished is no longer ours: its row goes; one the
    // server could not copy is ours, and goes once the upload is made.
    if (notImplemented) result.uncopied.push({ from: step.from, to: step.to, size: step.size });
    else context.recorder.apply({ forget: [step.from] });
    if (!context.movesOnly) {
      const keep = { storageClass: step.storageClass, sse: step.sse };
      result.fallbackUploads.push({ key: step.to, file: step.file, reason: "new", keep });
    }
    outcome.fellBack++;
    reporter?.fellBack?.(step, describeCopyError(error));
    return;
  }
  // The sources of this move and of the moves after it still hold the only copy of their
  // content in S3: nothing may be uploaded over them in this run.
  for (const held of [step, ...later]) result.held.add(sourceOf(held));
  recordFailure(outcome, {
    action: "move",
    key: step.to,
    message: `Cannot move "${step.from}" to "${step.to}": ${describeCopyError(error)}`,
    kind: "error",
  }, reporter);
}
