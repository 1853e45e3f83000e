/**
 * Applies a {@linkcode Plan}: moves (in dependency order), then uploads, then deletes,
 * with bounded concurrency, recording each success in the state as it goes. A dry
 * run swaps in {@linkcode DryRunExecutor}, which reports the same actions and does
 * nothing.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { describeCopyError, isArchivedError, s3ErrorText } from "../s3/errors.ts";
import { contentTypeOf } from "../s3/content_type.ts";
import { orderMoves } from "../plan/move_order.ts";
import { runPool } from "../pool.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";
import type { ObjectStore } from "../s3/store.ts";
import {
  type DeferredMove,
  type DeleteAction,
  type FileRecord,
  type MoveStep,
  type Plan,
  type StateRecorder,
  TEMP_FOLDER,
  type UploadAction,
} from "../model.ts";
import { withSlash } from "../fs.ts";
import { recordOf } from "../model.ts";

/** An action that did not succeed. */
export interface Failure {
  /** What was attempted. */
  action: "move" | "upload" | "delete";
  /** Key relative to the prefix (for a move, the destination). */
  key: string;
  /** A sentence saying what failed. */
  message: string;
  /** `unreadable`: a local file could not be read (exit 3); `error`: anything else (exit 1). */
  kind: "error" | "unreadable" | "changed";
}

/** Receives each completed action, for logs and progress. */
export interface ExecutionReporter {
  /** The plan is about to be executed (totals for progress displays). */
  planned?(plan: Plan): void;
  /** A move (or a step of a swap) completed. */
  moved?(step: MoveStep): void;
  /** An upload completed. */
  uploaded?(action: UploadAction): void;
  /** A delete completed. */
  deleted?(action: DeleteAction): void;
  /** An action failed. */
  failed?(failure: Failure): void;
  /** --verify-moves found other content than the object's: uploaded instead. */
  verifyFailed?(step: MoveStep): void;
  /** A move was deferred because S3 said its source is archived. */
  deferred?(move: DeferredMove): void;
}

/** What an execution did. */
export interface Outcome {
  /** Completed moves (steps into temporary keys are not counted). */
  moves: MoveStep[];
  /** Completed uploads. */
  uploads: UploadAction[];
  /** Completed deletes. */
  deletes: DeleteAction[];
  /** Failed actions. */
  failures: Failure[];
  /** Moves S3 refused to copy because the source is archived: deferred. */
  deferred: DeferredMove[];
  /** Uploads held back because their key is the source of a deferred move. */
  waiting: UploadAction[];
  /** Files deleted or replaced (by another file, a link, a FIFO) between scan and upload. */
  vanished: string[];
  /** Bytes sent by uploads. */
  bytesUploaded: number;
  /** Bytes moved by server-side copies instead of uploads. */
  bytesMovedServerSide: number;
}

/** Applies a plan. */
export interface Executor {
  /** Carries out the plan and says what was done. */
  execute(plan: Plan): Promise<Outcome>;
}

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
  /** Requests in flight at most. */
  concurrency: number;
  /** Storage class for uploads. */
  storageClass?: string;
  /** Told about each completed action. */
  reporter?: ExecutionReporter;
  /** Makes a temporary key (relative to the prefix) for swaps. */
  tempKey?: () => string;
  /**
   * Before moving, compare the local file's MD5 with the source object's ETag where the
   * ETag is an MD5 (single-part uploads); on a mismatch the file is uploaded instead.
   */
  verifyMoves?: boolean;
  /** `moves`: never upload (a file that fails --verify-moves is left to the uploader). */
  movesOnly?: boolean;
  /** `sync --delete`: keys found to have no local file during the run are deleted too. */
  deleteRemote?: boolean;
}

const DELETE_BATCH = 1000;
const RECORD_BATCH = 200;

/** An outcome with nothing done yet. */
export function emptyOutcome(): Outcome {
  return {
    moves: [],
    uploads: [],
    deletes: [],
    failures: [],
    deferred: [],
    waiting: [],
    vanished: [],
    bytesUploaded: 0,
    bytesMovedServerSide: 0,
  };
}

function recordFor(step: MoveStep): FileRecord | undefined {
  return step.file ? recordOf(step.file, step.to, true) : undefined;
}

function tempRecordFor(step: MoveStep, source: MoveStep): FileRecord | undefined {
  // A temporary key holds the content of the file that will end up at the cycle's end.
  const file = source.file;
  if (!file) return undefined;
  return { ...recordFor({ ...step, file })!, path: step.to };
}

/**
 * Carries out a plan against S3 and records what succeeded.
 *
 * Moves are copy-then-delete, the source deleted only once the copy is confirmed; the
 * new row is written only after the delete, so a run that dies between the two leaves
 * the old row, and the next run finds the move again and completes it without copying.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 * import { NullRecorder } from "../state/store.ts";
 *
 * const executor = new LiveExecutor({
 *   store: new MemoryStore(),
 *   recorder: new NullRecorder(),
 *   prefix: "photos/",
 *   root: "/volume1/photos",
 *   concurrency: 10,
 * });
 * const outcome = await executor.execute({
 *   moves: [],
 *   uploads: [],
 *   deletes: [],
 *   record: { upsert: [], forget: [] },
 *   unchanged: 0,
 *   adopted: 0,
 *   inodeUpdates: 0,
 *   skipped: [],
 *   deferred: [],
 *   waiting: [],
 * });
 * console.log(outcome.moves.length);
 * ```
 */
export class LiveExecutor implements Executor {
  readonly #heldSources = new Set<string>();
  readonly #extraUploads: UploadAction[] = [];
  readonly #orphans: DeleteAction[] = [];

  async #verify(step: MoveStep): Promise<"same" | "differs" | "unknown"> {
    if (!step.etag || !/^"[0-9a-f]{32}"$/.test(step.etag) || !step.file) return "unknown";
    const root = withSlash(this.options.root);
    try {
      const hash = createHash("md5");
      for await (const chunk of createReadStream(root + step.file.path)) hash.update(chunk);
      return `"${hash.digest("hex")}"` === step.etag ? "same" : "differs";
    } catch {
      return "unknown"; // Unreadable now: the upload would fail too; move as planned.
    }
  }

  constructor(private readonly options: LiveExecutorOptions) {}

  async execute(plan: Plan): Promise<Outcome> {
    const outcome = emptyOutcome();
    this.options.recorder.apply(plan.record);
    await this.#moves(plan, outcome);
    await this.#uploads(plan, outcome);
    await this.#deletes([...plan.deletes, ...this.#orphans], outcome);
    return outcome;
  }

  #fail(outcome: Outcome, failure: Failure): void {
    outcome.failures.push(failure);
    this.options.reporter?.failed?.(failure);
  }

  async #moves(plan: Plan, outcome: Outcome): Promise<void> {
    const { store, prefix, recorder, reporter } = this.options;
    const tempKey = this.options.tempKey ??
      (() => `${TEMP_FOLDER}${crypto.randomUUID()}`);
    const sequences = orderMoves(plan.moves, tempKey);
    const pendingDeletes: MoveStep[] = [];

    const finish = (steps: MoveStep[]) => {
      const upsert: FileRecord[] = [];
      for (const step of steps) {
        const record = recordFor(step);
        if (record) upsert.push(record);
      }
      recorder.apply({ upsert, forget: steps.map((step) => step.from) });
      for (const step of steps) {
        if (!step.viaTemp || step.file) {
          outcome.moves.push(step);
          outcome.bytesMovedServerSide += step.size;
        }
        reporter?.moved?.(step);
      }
    };

    const flushDeletes = async () => {
      while (pendingDeletes.length > 0) {
        const batch = pendingDeletes.splice(0, DELETE_BATCH);
        let failures;
        try {
          failures = await store.deleteMany(batch.map((step) => prefix + step.from));
        } catch (error) {
          if (error instanceof StoreUnreachableError) throw error;
          for (const step of batch) {
            this.#fail(outcome, {
              action: "move",
              key: step.to,
              message: `Copied "${step.from}" to "${step.to}" but could not delete the source: ${
                s3ErrorText(error)
              }`,
              kind: "error",
            });
          }
          continue;
        }
        const failed = new Map(failures.map((failure) => [failure.key, failure.message]));
        const done: MoveStep[] = [];
        for (const step of batch) {
          const message = failed.get(prefix + step.from);
          if (message === undefined) done.push(step);
          else {
            this.#fail(outcome, {
              action: "move",
              key: step.to,
              message:
                `Copied "${step.from}" to "${step.to}" but could not delete the source: ${message}`,
              kind: "error",
            });
          }
        }
        finish(done);
      }
    };

    const defer = (steps: MoveStep[], reason: string) => {
      for (const step of steps) {
        const from = step.originalFrom ?? step.from;
        this.#heldSources.add(from);
        const deferred = {
          from,
          to: step.to,
          size: step.size,
          storageClass: step.storageClass,
          reason: step === steps[0] ? reason : `waits for "${steps[0]!.from}" to move first`,
        };
        outcome.deferred.push(deferred);
        reporter?.deferred?.(deferred);
      }
    };

    const copy = async (step: MoveStep, rest: MoveStep[] = []): Promise<boolean> => {
      if (this.options.verifyMoves && step.file && !step.viaTemp) {
        const verdict = await this.#verify(step);
        if (verdict === "differs") {
          // Not the same content after all (an inode reused with the same size and
          // mtime): upload the file, and forget the source row so it is not moved again.
          recorder.apply({ forget: [step.from] });
          if (!this.options.movesOnly) {
            this.#extraUploads.push({ key: step.to, file: step.file, reason: "changed" });
            // The source's content is no local file's: with --delete it goes, as any key
            // whose file is gone (the plan had kept it as a move source).
            if (this.options.deleteRemote) {
              this.#orphans.push({
                key: step.from,
                size: step.size,
                reason: "no local file (--verify-moves: the inode was reused)",
              });
            }
          }
          reporter?.verifyFailed?.(step);
          return false;
        }
      }
      if (step.copyDone) return true;
      try {
        await store.copy(prefix + step.from, prefix + step.to, {
          storageClass: step.storageClass,
          ifMatch: step.etag,
          onMultipart: (state) => recorder.multipart?.(prefix + step.to, state),
        });
        return true;
      } catch (error) {
        if (error instanceof StoreUnreachableError) throw error;
        if (isArchivedError(error)) {
          // Intelligent-Tiering archive tiers do not show in a listing: S3 says so here.
          defer(
            [step, ...rest],
            `source is archived (${(error as Error).name}) and must be restored first`,
          );
          return false;
        }
        // The sources of this move and of the moves after it still hold the only copy
        // of their content in S3: nothing may be uploaded over them in this run.
        for (const held of [step, ...rest]) this.#heldSources.add(held.originalFrom ?? held.from);
        this.#fail(outcome, {
          action: "move",
          key: step.to,
          message: `Cannot move "${step.from}" to "${step.to}": ${describeCopyError(error)}`,
          kind: "error",
        });
        return false;
      }
    };

    await runPool(sequences, {
      concurrency: this.options.concurrency,
      worker: async (sequence) => {
        if (sequence.length === 1) {
          const step = sequence[0]!;
          if (await copy(step)) {
            pendingDeletes.push(step);
            if (pendingDeletes.length >= DELETE_BATCH) await flushDeletes();
          }
          return;
        }
        // Chains and cycles: each step vacates the key that the next one writes.
        for (const [index, step] of sequence.entries()) {
          if (
            !(await copy(
              step,
              sequence.slice(index + 1).filter((later) => !later.viaTemp || later.file),
            ))
          ) return;
          let failures;
          try {
            failures = await store.deleteMany([prefix + step.from]);
          } catch (error) {
            if (error instanceof StoreUnreachableError) throw error;
            failures = [{ key: step.from, message: s3ErrorText(error) }];
          }
          if (failures.length > 0) {
            this.#fail(outcome, {
              action: "move",
              key: step.to,
              message: `Copied "${step.from}" to "${step.to}" but could not delete the source: ${
                failures[0]!.message
              }`,
              kind: "error",
            });
            for (const later of sequence.slice(index + 1)) {
              this.#heldSources.add(later.originalFrom ?? later.from);
            }
            return;
          }
          if (step.viaTemp && !step.file) {
            const last = sequence.at(-1)!;
            const record = tempRecordFor(step, last);
            recorder.apply({ upsert: record ? [record] : [], forget: [step.from] });
            reporter?.moved?.(step);
          } else {
            finish([step]);
          }
        }
      },
    });
    await flushDeletes();
  }

  async #uploads(plan: Plan, outcome: Outcome): Promise<void> {
    const { recorder, root } = this.options;
    const base = withSlash(root);
    let records: FileRecord[] = [];
    try {
      await this.#uploadAll(plan, {
        outcome,
        base,
        flush: (record) => {
          records.push(record);
          if (records.length >= RECORD_BATCH) {
            recorder.apply({ upsert: records });
            records = [];
          }
        },
      });
    } finally {
      // Even when the run is stopped, what was uploaded is recorded.
      recorder.apply({ upsert: records });
    }
  }

  async #uploadAll(
    plan: Plan,
    context: { outcome: Outcome; base: string; flush: (record: FileRecord) => void },
  ): Promise<void> {
    const { store, prefix, reporter } = this.options;
    const { outcome, base } = context;
    await runPool([...plan.uploads, ...this.#extraUploads], {
      concurrency: this.options.concurrency,
      worker: async (action) => {
        if (this.#heldSources.has(action.key)) {
          outcome.waiting.push(action);
          return;
        }
        const path = base + action.file.path;
        // Still the regular file the scan saw? Never follow a symlink or open a FIFO
        // (which would block) that replaced it since.
        let before: Deno.FileInfo;
        try {
          before = await Deno.lstat(path);
        } catch {
          outcome.vanished.push(action.file.path);
          return;
        }
        if (!before.isFile || before.ino !== action.file.ino) {
          outcome.vanished.push(action.file.path);
          return;
        }
        const multipart = store.multipartThreshold !== undefined &&
          action.file.size >= store.multipartThreshold;
        if (multipart) this.options.recorder.multipart?.(prefix + action.key, "started");
        try {
          await store.upload(prefix + action.key, { path, size: action.file.size }, {
            storageClass: this.options.storageClass,
            contentType: contentTypeOf(action.key),
          });
          if (multipart) this.options.recorder.multipart?.(prefix + action.key, "done");
        } catch (error) {
          if (error instanceof StoreUnreachableError) throw error;
          if (error instanceof Deno.errors.NotFound) {
            // Deleted since the scan: there is nothing to back up any more, as if it had
            // gone before the scan. Nothing is recorded; the next run sees it gone.
            outcome.vanished.push(action.file.path);
            return;
          }
          const unreadable = error instanceof Deno.errors.PermissionDenied;
          this.#fail(outcome, {
            action: "upload",
            key: action.key,
            message: `Cannot upload "${action.file.path}": ${s3ErrorText(error)}`,
            kind: unreadable ? "unreadable" : "error",
          });
          return;
        }
        // Never record content other than what was read: a file that changed while
        // it was uploaded is uploaded again by the next run.
        let after: Deno.FileInfo | undefined;
        try {
          after = await Deno.lstat(path);
        } catch {
          after = undefined;
        }
        outcome.uploads.push(action);
        outcome.bytesUploaded += action.file.size;
        reporter?.uploaded?.(action);
        if (
          after && after.size === action.file.size &&
          (after.mtime?.getTime() ?? 0) === action.file.mtimeMs
        ) {
          context.flush(recordOf(action.file, action.key, true));
        }
      },
    });
  }

  async #deletes(deletes: readonly DeleteAction[], outcome: Outcome): Promise<void> {
    const { store, prefix, reporter } = this.options;
    const batches: DeleteAction[][] = [];
    for (let index = 0; index < deletes.length; index += DELETE_BATCH) {
      batches.push(deletes.slice(index, index + DELETE_BATCH));
    }
    await runPool(batches, {
      concurrency: Math.min(4, this.options.concurrency),
      worker: async (batch) => {
        let failures;
        try {
          failures = await store.deleteMany(batch.map((action) => prefix + action.key));
        } catch (error) {
          if (error instanceof StoreUnreachableError) throw error;
          failures = batch.map((action) => ({
            key: prefix + action.key,
            message: s3ErrorText(error),
          }));
        }
        const failed = new Map(failures.map((failure) => [failure.key, failure.message]));
        for (const action of batch) {
          const message = failed.get(prefix + action.key);
          if (message === undefined) {
            outcome.deletes.push(action);
            reporter?.deleted?.(action);
          } else {
            this.#fail(outcome, {
              action: "delete",
              key: action.key,
              message: `Cannot delete "${action.key}": ${message}`,
              kind: "error",
            });
          }
        }
      },
    });
  }
}
