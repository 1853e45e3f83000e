/**
 * The pipeline shared by `sync`, `moves` and `status` for one target:
 * scan → plan → execute → record.
 *
 * @module
 */
import { deleteGuard } from "./plan/delete_guard.ts";
import { DeleteRefusedError, errorMessage, UsageError } from "./errors.ts";
import { DryRunExecutor } from "./execute/dry_run.ts";
import {
  type ExecutionReporter,
  type Executor,
  LiveExecutor,
  type Outcome,
} from "./execute/live.ts";
import { excluder, filter } from "./scan/filter.ts";
import { plan } from "./plan/plan.ts";
import { ARCHIVE_CLASSES, parseRestore } from "./s3/archive.ts";
import { updateArchiveLog } from "./state/archive_log.ts";
import { localDirProblem } from "./scan/local_dir.ts";
import { acquireLock } from "./state/lock.ts";
import { guardUnreachable } from "./s3/unreachable_guard.ts";
import { runPool } from "./pool.ts";
import type { ObjectStore } from "./s3/store.ts";
import { explainS3Error } from "./s3/errors.ts";
import { startScan } from "./scan/in_worker.ts";
import type { TargetRegistry } from "./state/registry.ts";
import { statePathOf, StateStore } from "./state/store.ts";
import type { S3Location } from "./s3/location.ts";
import { type DeferredRecord, type Plan, type RemoteEntry, type SkippedEntry } from "./model.ts";

const encoder = new TextEncoder();

/** What to run against one target. */
export interface TargetRunOptions {
  /** The local directory. */
  localDir: string;
  /** Bucket and prefix. */
  location: S3Location;
  /** Endpoint URL ("" for AWS); part of the target's identity in the state DB. */
  endpoint: string;
  /** `sync` uploads (and deletes); `moves` only moves; `status` changes nothing. */
  mode: "sync" | "moves" | "status";
  /** Report the plan without changing anything. */
  dryRun?: boolean;
  /** Delete keys whose local file is gone. */
  deleteRemote?: boolean;
  /**
   * `moves` before another tool's `sync --delete` (batch's aws step): plan the deletes a
   * `sync --delete` would make and refuse the run, as `sync` would, when the delete guard
   * refuses them; make none of them. The report gives their count in `plannedDeletes`.
   */
  checkDeletes?: boolean;
  /** Exclude patterns (`aws s3 sync` semantics). */
  excludes?: readonly string[];
  /** Requests in flight at most. */
  concurrency?: number;
  /** Storage class of uploads. */
  storageClass?: string;
  /** Allow at most this many deletes. */
  maxDelete?: number;
  /** Skip the mass-deletion guard. */
  forceDelete?: boolean;
  /** `archive_restore_needed.log` to keep up to date with this target's deferred moves. */
  archiveLog?: string;
  /** Before each move, compare the local file's MD5 with the object's ETag (where it is one). */
  verifyMoves?: boolean;
}

/** Side effects the pipeline needs. */
export interface TargetRunDeps {
  /** The bucket. */
  store: ObjectStore;
  /** Told about each action as it completes (or would, in a dry run). */
  reporter?: ExecutionReporter;
  /** Where runs that change something list their target, for `restore` to find. */
  registry?: TargetRegistry;
}

/** What a run of one target found and did. */
export interface TargetReport {
  /** The plan that was executed. */
  plan: Plan;
  /** What was done (or would be, in a dry run). */
  outcome: Outcome;
  /** Entries the scan skipped (symlinks, special files, unreadable folders). */
  scanSkipped: SkippedEntry[];
  /** Local files found, after excludes. */
  localFiles: number;
  /** Objects listed under the prefix, after excludes. */
  remoteObjects: number;
  /** Local files excluded by patterns. */
  excluded: number;
  /** Rows written to the state DB. */
  stateWrites: number;
  /** Whether anything was changed. */
  dryRun: boolean;
  /**
   * Milliseconds per phase: stateLoad, listing, scan (from the start, on its own
   * thread), scanWait (time spent waiting for it after the listing), filter, plan,
   * execute.
   */
  timings: Record<string, number>;
  /**
   * Moves of this target that wait for archived objects to be restored, after this run:
   * neither their new path may be uploaded nor their old key deleted by anyone.
   */
  deferred: DeferredRecord[];
  /** The lock of a run that died without releasing it was taken over (its pid, start). */
  lockTakenOverFrom?: string;
  /** Deletes held back because some local files could not be read or named. */
  heldDeletes: number;
  /** Deletes the plan wants (made only by `sync --delete`; judged with `checkDeletes`). */
  plannedDeletes: number;
  /** The target could not be listed in the registry (why), so `restore` may miss it. */
  registryProblem?: string;
}

/**
 * Runs scan → plan → execute → record for one target.
 *
 * @throws {UsageError} when the local directory is missing, not a directory or empty
 *   (an unmounted volume; allowed with `forceDelete`), or the bucket cannot be used.
 * @throws {DeleteRefusedError} when the delete guard refuses the planned deletes.
 *   Nothing is changed in either case.
 * @throws {OperationError} when S3 cannot be reached for the listing.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./s3/memory_store.ts";
 *
 * const report = await runTarget({
 *   localDir: "/volume1/photos",
 *   location: { bucket: "b", prefix: "" },
 *   endpoint: "",
 *   mode: "sync",
 * }, { store: new MemoryStore() });
 * console.log(report.outcome.uploads.length);
 * ```
 */
export async function runTarget(
  options: TargetRunOptions,
  dependencies: TargetRunDeps,
): Promise<TargetReport> {
  // Stop soon after S3 becomes unreachable rather than failing file after file.
  const deps = { ...dependencies, store: guardUnreachable(dependencies.store) };
  const { localDir, location, mode } = options;
  const dryRun = mode === "status" || (options.dryRun ?? false);
  const problem = localDirProblem(localDir);
  // An empty directory is most often an unmounted volume: a run that writes refuses it
  // before it creates anything there, unless the user says the emptiness is real.
  if (problem && !(problem.kind === "empty" && (dryRun || options.forceDelete))) {
    throw new UsageError(
      problem.kind === "empty"
        ? `${problem.message} Nothing was changed. ${
          options.deleteRemote
            ? "If it really is empty and its objects should be deleted, pass --force-delete."
            : "There is nothing to sync in it."
        }`
        : problem.message,
    );
  }
  // The walk runs on another thread while this one loads the state and lists the bucket.
  const started = performance.now();
  const timings: Record<string, number> = {};
  const mark = (phase: string, since: number) => {
    timings[phase] = Math.round(performance.now() - since);
    return performance.now();
  };
  const targetKey = {
    endpoint: options.endpoint,
    bucket: location.bucket,
    prefix: location.prefix,
  };
  // One run at a time per directory and target (dry runs only read).
  const lock = dryRun ? undefined : acquireLock(localDir, targetKey);
  const pendingScan = startScan(localDir);
  let scanDone = false;
  let state: StateStore;
  try {
    state = StateStore.open(localDir, { readOnly: dryRun });
  } catch (error) {
    pendingScan.cancel();
    lock?.release();
    throw error;
  }
  let registryProblem: string | undefined;
  if (!dryRun && deps.registry) {
    try {
      deps.registry.register({ localDir, stateDb: statePathOf(localDir), ...targetKey });
    } catch (error) {
      registryProblem = errorMessage(error);
    }
  }
  try {
    const targetId = state.target(targetKey);
    let phaseStart = performance.now();
    const previous = state.load(targetId);
    phaseStart = mark("stateLoad", phaseStart);
    const recordedRootDev = state.rootDev(targetId);

    const isExcluded = excluder(options.excludes ?? []);

    const remote = new Map<string, RemoteEntry>();
    try {
      for await (const page of deps.store.list(location.prefix)) {
        for (const object of page) {
          const key = object.key.slice(location.prefix.length);
          // Folder placeholder objects ("photos/") are not files: never touched.
          if (key === "" || key.endsWith("/") || isExcluded(key)) continue;
          remote.set(key, object);
        }
      }
    } catch (error) {
      throw explainS3Error(error, {
        bucket: location.bucket,
        endpoint: options.endpoint || undefined,
      });
    }

    // Multipart uploads a run that died left open are billed until aborted.
    if (!dryRun && targetId !== undefined) {
      for (const key of state.openMultipartUploads(targetId)) {
        try {
          await deps.store.abortMultipartUploads(key);
          state.noteMultipart(targetId, { key, state: "done" });
        } catch {
          // Tried again next run.
        }
      }
    }

    // Archived sources that `restore` asked S3 to restore: is the restore done?
    const deferredBefore = state.deferredMoves(targetId);
    const toCheck = deferredBefore.filter((move) =>
      move.restoreRequestedMs !== undefined &&
      ARCHIVE_CLASSES.has(remote.get(move.from)?.storageClass ?? "")
    );
    await runPool(toCheck, {
      concurrency: options.concurrency ?? 10,
      worker: async (move) => {
        try {
          const head = await deps.store.head(location.prefix + move.from);
          if (head && parseRestore(head.restore).state === "restored") {
            remote.set(move.from, { ...remote.get(move.from)!, restored: true });
          }
        } catch {
          // Unknown: the move stays deferred and is checked again next run.
        }
      },
    });

    phaseStart = mark("listing", phaseStart);
    const scanned = await pendingScan();
    scanDone = true;
    phaseStart = mark("scanWait", phaseStart);
    timings.scan = Math.round(performance.now() - started);
    const { kept: wanted, excluded } = filter(scanned.files, {
      isExcluded,
      pathOf: (file) => file.path,
    });
    // S3 keys are at most 1024 bytes of UTF-8.
    const prefixBytes = encoder.encode(location.prefix).length;
    const local = wanted.filter((file) => {
      if (file.path.length * 3 + prefixBytes <= 1024) return true;
      const bytes = prefixBytes + encoder.encode(file.path).length;
      if (bytes <= 1024) return true;
      scanned.skipped.push({
        path: file.path,
        kind: "invalid name",
        reason: `its key would be ${bytes} bytes long; S3 keys are at most 1024 bytes`,
      });
      return false;
    });

    // Drop rows of files that are excluded now: they are neither synced nor moved.
    for (const path of previous.keys()) if (isExcluded(path)) previous.delete(path);

    phaseStart = mark("filter", phaseStart);
    const result = plan({ previous, local, remote }, {
      mode: mode === "moves" ? "moves" : "sync",
      deleteRemote: mode === "moves" ? options.checkDeletes : options.deleteRemote,
      rootDevChanged: recordedRootDev !== undefined && recordedRootDev !== scanned.rootDev,
      nfcKeys: state.nfcKeys(targetId),
    });

    // A file that could not be read or named may be where a deleted-looking file went
    // (renamed to a bad name, a folder that became unreadable): hold every delete
    // until it is fixed, unless the user insists.
    const unseen = scanned.skipped.filter((entry) =>
      entry.kind === "unreadable" || entry.kind === "invalid name" || entry.kind === "vanished"
    );
    let heldDeletes = 0;
    if (unseen.length > 0 && !options.forceDelete) {
      const kept = result.deletes.filter((action) => action.temporary);
      heldDeletes = result.deletes.length - kept.length;
      result.deletes = kept;
    }
    const userDeletes = result.deletes.filter((action) => !action.temporary);
    const refusal = deleteGuard({
      localFiles: local.length,
      remoteObjects: remote.size,
      deletes: userDeletes.length,
      maxDelete: options.maxDelete,
      force: options.forceDelete,
    });
    if (refusal) {
      throw new DeleteRefusedError(`Refusing to delete: ${refusal}. Nothing was changed.`);
    }
    // moves only judged them: another tool makes the deletes, after this run.
    if (mode === "moves") result.deletes = result.deletes.filter((action) => action.temporary);

    let executor: Executor;
    if (dryRun || targetId === undefined) {
      executor = new DryRunExecutor(deps.reporter);
    } else {
      executor = new LiveExecutor({
        store: deps.store,
        recorder: state.recorder(targetId),
        prefix: location.prefix,
        root: localDir,
        concurrency: options.concurrency ?? 10,
        storageClass: options.storageClass,
        reporter: deps.reporter,
        verifyMoves: options.verifyMoves,
        movesOnly: mode === "moves",
        deleteRemote: mode === "sync" && (options.deleteRemote ?? false) && heldDeletes === 0,
      });
    }
    phaseStart = mark("plan", phaseStart);
    deps.reporter?.planned?.(result);
    const outcome = await executor.execute(result);
    mark("execute", phaseStart);
    const firstDeferred = new Map(deferredBefore.map((old) => [old.from, old.firstDeferredMs]));
    let deferred: DeferredRecord[] = result.deferred.map((move) => ({
      ...move,
      firstDeferredMs: firstDeferred.get(move.from) ?? Date.now(),
    }));
    if (!dryRun && targetId !== undefined) {
      state.setRootDev(targetId, scanned.rootDev);
      // Once every move to a name as on disk went through, the NFC-era rows are gone.
      const legacyWaits = [...result.deferred, ...outcome.deferred].some((move) =>
        move.from !== move.to && move.from === move.to.normalize("NFC")
      );
      if (outcome.failures.length === 0 && !legacyWaits) state.clearNfcKeys(targetId);
      deferred = state.saveDeferred(targetId, {
        moves: [...result.deferred, ...outcome.deferred],
        nowMs: Date.now(),
      });
      if (options.archiveLog) {
        updateArchiveLog(options.archiveLog, {
          target: { localDir, endpoint: options.endpoint, ...location },
          deferred,
        });
      }
    }
    return {
      plan: result,
      outcome,
      scanSkipped: scanned.skipped,
      localFiles: local.length,
      remoteObjects: remote.size,
      excluded: excluded.length,
      stateWrites: dryRun ? 0 : state.writes,
      dryRun,
      timings,
      deferred,
      lockTakenOverFrom: lock?.tookOverFrom,
      heldDeletes,
      plannedDeletes: userDeletes.length,
      registryProblem,
    };
  } finally {
    if (!scanDone) pendingScan.cancel();
    state.close();
    lock?.release();
  }
}
