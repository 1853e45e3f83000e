/**
 * The pipeline of one target, shared by `sync`, `moves` and `status`: scan → plan →
 * execute → record. The scan, the state rows and the listing are merged as sorted
 * streams; every policy is a named function of its stage, and this module only wires
 * them in order.
 *
 * @module
 */
import { DeleteRefusedError, errorMessage, UsageError } from "./errors.ts";
import { DryRunExecutor } from "./execute/dry_run.ts";
import type { ExecutionReporter, Executor, Outcome } from "./execute/executor.ts";
import { archivedMovesWait } from "./execute/archive_reads.ts";
import { abortLeftoverUploads } from "./execute/leftovers.ts";
import { LiveExecutor } from "./execute/live.ts";
import { restoredSources } from "./execute/restored.ts";
import { contentMismatches } from "./execute/verify.ts";
import type { DeferredRecord, MoveAction, Plan, SkippedEntry, TargetKey } from "./model.ts";
import { deleteGuard, holdDeletes, unseenEntries } from "./plan/delete_guard.ts";
import { archivedSource, decide } from "./plan/decide.ts";
import { type Classification, classify } from "./plan/merge.ts";
import { dropMismatchedMoves } from "./plan/verify.ts";
import { ARCHIVE_CLASSES } from "./s3/archive.ts";
import { explainS3Error } from "./s3/errors.ts";
import type { S3Location } from "./s3/location.ts";
import type { ObjectStore } from "./s3/store.ts";
import { guardUnreachable } from "./s3/unreachable_guard.ts";
import { excluder } from "./scan/filter.ts";
import { listInOrder, topFolderSplits } from "./scan/listing.ts";
import { localDirProblem } from "./scan/local_dir.ts";
import { relativeEntries } from "./scan/remote_entries.ts";
import { startScan } from "./scan/stream.ts";
import { keyProblem } from "./s3/location.ts";
import { acquireLock, type RunLock } from "./state/lock.ts";
import type { TargetRegistry } from "./state/registry.ts";
import { recordRun } from "./state/run_bookkeeping.ts";
import { NullRecorder, statePathOf, StateStore } from "./state/store.ts";
import { UploadSpool } from "./state/upload_spool.ts";

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
  /** Uploads in flight at most (default 10). */
  concurrency?: number;
  /** Server-side copies and deletes in flight at most (default 64). */
  moveConcurrency?: number;
  /** ListObjectsV2 ranges listed at once (default 16). */
  listConcurrency?: number;
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
  /**
   * Skip the listing while the last full listing is younger than `maxStateAgeMs`: plan
   * from the scan and the state alone (each move still conditional on its source's ETag).
   */
  trustState?: boolean;
  /** How old the last full listing may be for `trustState` (default 7 days). */
  maxStateAgeMs?: number;
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

/** How the run learned what is in S3. */
export interface ListingInfo {
  /** `full`: this run listed the prefix; `trusted`: it planned from the state DB alone. */
  kind: "full" | "trusted";
  /** When the last full listing before this run was taken (ms since the epoch), if ever. */
  previousFullListingMs?: number;
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
  /** Objects listed under the prefix (or recorded, trusting the state), after excludes. */
  remoteObjects: number;
  /** Local files excluded by patterns. */
  excluded: number;
  /** Rows written to the state DB. */
  stateWrites: number;
  /** Whether anything was changed. */
  dryRun: boolean;
  /** Milliseconds per phase: open, merge (scan, rows and listing together), plan, execute. */
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
  /** Moves `--verify-moves` found to be no renames (uploaded instead). */
  mismatchedMoves: MoveAction[];
  /** Whether the run listed S3 or trusted the state. */
  listing: ListingInfo;
}

/**
 * Split points of the next listing: every this many listed keys, one page per range. With
 * 16 ranges in flight a listing moves 16 pages per round trip while at most 32 pages
 * (two per range) wait for the merge.
 */
const KEYS_PER_RANGE = 1000;
const WEEK_MS = 7 * 24 * 3_600_000;

/** What the run is, decided once: what it may change, what it plans, what it deletes. */
interface RunMode {
  dryRun: boolean;
  plan: "sync" | "moves";
  /** `execute`: sync --delete; `judge`: planned for the guard only; `none`. */
  deletes: "execute" | "judge" | "none";
}

function runModeOf(options: TargetRunOptions): RunMode {
  const dryRun = options.mode === "status" || (options.dryRun ?? false);
  if (options.mode === "moves") {
    return { dryRun, plan: "moves", deletes: options.checkDeletes ? "judge" : "none" };
  }
  return { dryRun, plan: "sync", deletes: options.deleteRemote ? "execute" : "none" };
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
 * console.log(report.outcome.uploads);
 * ```
 */
export async function runTarget(
  options: TargetRunOptions,
  dependencies: TargetRunDeps,
): Promise<TargetReport> {
  const mode = runModeOf(options);
  refuseUnusableDirectory(options, mode);
  // Stop soon after S3 becomes unreachable rather than failing file after file.
  const store = guardUnreachable(dependencies.store);
  const timings: Record<string, number> = {};
  let phase = performance.now();
  const mark = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - phase);
    phase = now;
  };
  const { localDir, location } = options;
  const targetKey: TargetKey = { endpoint: options.endpoint, ...location };
  // One run at a time per directory and target (dry runs only read).
  const lock: RunLock | undefined = mode.dryRun ? undefined : acquireLock(localDir, targetKey);
  let state: StateStore | undefined;
  const scanned = startScan(localDir);
  try {
    state = StateStore.open(localDir, { readOnly: mode.dryRun });
    const registryProblem = mode.dryRun
      ? undefined
      : register(dependencies.registry, targetKey, localDir);
    const targetId = state.target(targetKey);
    const recorder = mode.dryRun || targetId === undefined
      ? new NullRecorder()
      : state.recorder(targetId);
    const isExcluded = excluder(options.excludes ?? []);
    const previousListing = state.listedAt(targetId);
    const trusted = options.trustState === true && previousListing !== undefined &&
      Date.now() - previousListing < (options.maxStateAgeMs ?? WEEK_MS);
    if (!mode.dryRun && targetId !== undefined) {
      await abortLeftoverUploads(state.openMultipartUploads(targetId), {
        store,
        done: (key) => state!.noteMultipart(targetId, { key, state: "done" }),
      });
    }
    mark("open");

    const listedAt = Date.now();
    // Every 1,000th listed key: the split points of the next listing (not every key).
    const nextSplits: string[] = [];
    let listed = 0;
    const rowCount = state.countRows(targetId);
    const uploads = new UploadSpool();
    const rootDevBefore = state.rootDev(targetId);
    let classification: Classification;
    try {
      classification = await classify({
        files: scanned,
        records: state.rows(targetId),
        remote: trusted ? undefined : relativeEntries(
          listInOrder(store, location.prefix, {
            splits: previousListing === undefined
              ? firstRunSplits(localDir, location.prefix)
              : state.listSplits(targetId),
            concurrency: options.listConcurrency ?? 16,
            pagesAhead: 2,
          }),
          location.prefix,
        ),
      }, {
        mode: mode.plan,
        isExcluded,
        keyProblem: (path) => keyProblem(location.prefix, path),
        rootDevChanged: rootDevBefore !== undefined && rootDevBefore !== scanned.rootDev,
        inodeKnown: (ino) => rowCount > 0 && state!.rowsWithInode(targetId, ino).length > 0,
        nfcKeys: state.nfcKeys(targetId),
        deleteRemote: mode.deletes !== "none",
        uploads,
        recorder,
        onListed: (key) => {
          if (++listed % KEYS_PER_RANGE === 0) nextSplits.push(location.prefix + key);
        },
      });
    } catch (error) {
      throw explainS3Error(error, {
        bucket: location.bucket,
        endpoint: options.endpoint || undefined,
      });
    }
    mark("merge");

    await markRestoredSources(classification, { state, targetId, store, prefix: location.prefix });
    const source = archivedSource(classification);
    const archive = await archivedMovesWait({
      aws: options.endpoint === "",
      known: state.archiveReads(targetId),
      store,
      probeKey: source === undefined ? undefined : location.prefix + source,
    });
    if (archive.learned !== undefined && !mode.dryRun && targetId !== undefined) {
      state.setArchiveReads(targetId, archive.learned);
    }
    const plan = decide(classification, {
      mode: mode.plan,
      deleteRemote: mode.deletes !== "none",
      rootDevChanged: rootDevBefore !== undefined && rootDevBefore !== scanned.rootDev,
      nfcKeys: state.nfcKeys(targetId),
      deferArchived: archive.wait,
      uploads,
    });
    const mismatchedMoves = options.verifyMoves
      ? await contentMismatches(plan.moves, { root: localDir })
      : [];
    dropMismatchedMoves(plan, mismatchedMoves, {
      mode: mode.plan,
      deleteRemote: mode.deletes !== "none",
    });
    const heldDeletes = holdDeletes(plan, {
      unseen: unseenEntries(classification.scanSkipped).length,
      force: options.forceDelete ?? false,
    });
    const plannedDeletes = guardDeletes(plan, classification, options);
    // moves only judged them: another tool makes the deletes, after this run.
    if (mode.deletes === "judge") plan.deletes = plan.deletes.filter((action) => action.temporary);
    mark("plan");

    const executor: Executor = mode.dryRun || targetId === undefined
      ? new DryRunExecutor(dependencies.reporter)
      : new LiveExecutor({
        store,
        recorder,
        prefix: location.prefix,
        root: localDir,
        concurrency: options.concurrency ?? 10,
        moveConcurrency: options.moveConcurrency ?? 64,
        storageClass: options.storageClass,
        reporter: dependencies.reporter,
        movesOnly: mode.plan === "moves",
      });
    const outcome = await executor.execute(plan);
    mark("execute");

    const waitingMoves = [...plan.deferred, ...outcome.deferred];
    const deferred = mode.dryRun || targetId === undefined
      ? datedDeferrals(waitingMoves, state.deferredMoves(targetId))
      : recordRun(state, targetId, {
        rootDev: scanned.rootDev,
        keysAsOnDisk: outcome.failureCount === 0 &&
          !waitingMoves.some((move) =>
            move.from !== move.to && move.from === move.to.normalize("NFC")
          ),
        listing: trusted ? undefined : { atMs: listedAt, splits: nextSplits },
        deferred: waitingMoves,
        archiveLog: options.archiveLog
          ? {
            path: options.archiveLog,
            target: { localDir, endpoint: options.endpoint, ...location },
          }
          : undefined,
        nowMs: Date.now(),
      });
    return {
      plan,
      outcome,
      scanSkipped: classification.scanSkipped,
      localFiles: classification.localFiles,
      remoteObjects: classification.remoteObjects,
      excluded: classification.excluded,
      stateWrites: mode.dryRun ? 0 : state.writes,
      dryRun: mode.dryRun,
      timings,
      deferred,
      lockTakenOverFrom: lock?.tookOverFrom,
      heldDeletes,
      plannedDeletes,
      registryProblem,
      mismatchedMoves,
      listing: { kind: trusted ? "trusted" : "full", previousFullListingMs: previousListing },
    };
  } finally {
    scanned.cancel();
    state?.close();
    lock?.release();
  }
}

/**
 * A missing directory, a file, or an empty directory (most often an unmounted volume):
 * refused before anything is created in it, unless the run only reads or the user says
 * the emptiness is real.
 */
function refuseUnusableDirectory(options: TargetRunOptions, mode: RunMode): void {
  const problem = localDirProblem(options.localDir);
  if (!problem || (problem.kind === "empty" && (mode.dryRun || options.forceDelete))) return;
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

function register(
  registry: TargetRegistry | undefined,
  target: TargetKey,
  localDir: string,
): string | undefined {
  try {
    registry?.register({ localDir, stateDb: statePathOf(localDir), ...target });
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * Split points of a first listing, when no earlier one left any: one per top-level folder
 * of the local tree (the objects of a mirror are mostly under those). Later listings use
 * the points the last full listing kept, a range per 1,000 keys (one page).
 */
function firstRunSplits(localDir: string, prefix: string): readonly string[] {
  const folders: string[] = [];
  try {
    for (const entry of Deno.readDirSync(localDir)) if (entry.isDirectory) folders.push(entry.name);
  } catch {
    return [];
  }
  return topFolderSplits(prefix, folders);
}

/** Sources of deferred moves that `restore` asked S3 to restore: are they restored now? */
async function markRestoredSources(
  classification: Classification,
  context: { state: StateStore; targetId: number | undefined; store: ObjectStore; prefix: string },
): Promise<void> {
  const requested = new Set(
    context.state.deferredMoves(context.targetId)
      .filter((move) => move.restoreRequestedMs !== undefined)
      .map((move) => move.from),
  );
  if (requested.size === 0) return;
  const candidates = classification.displaced.filter((entry) =>
    requested.has(entry.record.path) && ARCHIVE_CLASSES.has(entry.listed?.storageClass ?? "")
  );
  const restored = await restoredSources(candidates.map((entry) => entry.record.path), {
    store: context.store,
    prefix: context.prefix,
  });
  for (const entry of candidates) {
    if (restored.has(entry.record.path)) entry.listed = { ...entry.listed!, restored: true };
  }
}

/**
 * The delete guard: refuses every delete (throws, nothing changed) when the directory
 * looks unmounted or emptied. Returns how many deletes of users' objects are planned.
 */
function guardDeletes(
  plan: Plan,
  classification: Classification,
  options: TargetRunOptions,
): number {
  const userDeletes = plan.deletes.filter((action) => !action.temporary).length;
  const refusal = deleteGuard({
    localFiles: classification.localFiles,
    remoteObjects: classification.remoteObjects,
    deletes: userDeletes,
    maxDelete: options.maxDelete,
    force: options.forceDelete,
  });
  if (refusal) throw new DeleteRefusedError(`Refusing to delete: ${refusal}. Nothing was changed.`);
  return userDeletes;
}

/** Deferred moves of a run that records nothing, dated as the state DB has them. */
function datedDeferrals(
  moves: readonly DeferredRecord[] | readonly Omit<DeferredRecord, "firstDeferredMs">[],
  known: readonly DeferredRecord[],
): DeferredRecord[] {
  const first = new Map(known.map((record) => [record.from, record.firstDeferredMs]));
  return moves.map((move) => ({ ...move, firstDeferredMs: first.get(move.from) ?? Date.now() }));
}
