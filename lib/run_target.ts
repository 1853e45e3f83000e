/**
 * The pipeline of one target, shared by `sync`, `moves` and `status`: scan → plan →
 * execute → record. The scan, the state rows and the listing are merged as sorted
 * streams; every policy is a named function of its stage, and this module only wires
 * them in order.
 *
 * @module
 */
import { DryRunExecutor } from "./execute/dry_run.ts";
import {
  emptyOutcome,
  type ExecutionReporter,
  type Executor,
  type Outcome,
  type RunPhase,
} from "./execute/executor.ts";
import { archivedMovesWait } from "./execute/archive_reads.ts";
import { abortLeftoverUploads } from "./execute/leftovers.ts";
import { LiveExecutor } from "./execute/live.ts";
import { markRestored } from "./execute/restored.ts";
import { contentMismatches } from "./execute/verify.ts";
import {
  type DeferredRecord,
  type MoveAction,
  type Plan,
  ROOT_DEVICE,
  type ScanBatch,
  type SkippedEntry,
  type StateRecorder,
  type TargetKey,
} from "./model.ts";
import { guardPlannedDeletes, holdDeletes, unseenEntries } from "./plan/delete_guard.ts";
import { archivedSource, decide, emptyPlan } from "./plan/decide.ts";
import { type Classification, classify, emptyClassification } from "./plan/merge.ts";
import { dropMismatchedMoves } from "./plan/verify.ts";
import { explainS3Error } from "./s3/errors.ts";
import { keyProblem, type S3Location } from "./s3/location.ts";
import type { ObjectStore } from "./s3/store.ts";
import { guardUnreachable } from "./s3/unreachable_guard.ts";
import { excluder } from "./scan/filter.ts";
import { firstRunSplits, listInOrder } from "./scan/listing.ts";
import { refuseUnusableDirectory } from "./scan/local_dir.ts";
import { relativeEntries } from "./scan/remote_entries.ts";
import { type ScanStream, startScan } from "./scan/stream.ts";
import { acquireLock, type RunLock } from "./state/lock.ts";
import { registerTarget, type TargetRegistry } from "./state/registry.ts";
import { datedDeferrals, recordRun } from "./state/run_bookkeeping.ts";
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
  /**
   * Where the state DB and the lock are kept (default: `localDir`): outside the synced
   * folder for a read-only snapshot; successive snapshots share it.
   */
  stateDir?: string;
}

/** Side effects the pipeline needs. */
export interface TargetRunDeps {
  /** The bucket. */
  store: ObjectStore;
  /** Told about each action as it completes (or would, in a dry run). */
  reporter?: ExecutionReporter;
  /** Where runs that change something list their target, for `restore` to find. */
  registry?: TargetRegistry;
  /**
   * Aborted to interrupt the run (SIGINT, SIGTERM): the scan stops, nothing new starts,
   * uploads under way stop, copies under way finish and are recorded; the report says
   * `interrupted`.
   */
  signal?: AbortSignal;
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
  /**
   * Milliseconds per phase: open, merge (scan, rows and listing together), plan, execute,
   * and within execute its parts (`execute.moves`, `execute.uploads`, `execute.deletes`;
   * moves and uploads overlap).
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
  /** Moves `--verify-moves` found to be no renames (uploaded instead). */
  mismatchedMoves: MoveAction[];
  /** Whether the run listed S3 or trusted the state. */
  listing: ListingInfo;
  /** The run was interrupted (`TargetRunDeps.signal`): what it reports was done so far. */
  interrupted: boolean;
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

/** What the stages of one run share. */
interface Run {
  options: TargetRunOptions;
  mode: RunMode;
  store: ObjectStore;
  state: StateStore;
  targetId: number | undefined;
  recorder: StateRecorder;
  reporter: ExecutionReporter | undefined;
  signal: AbortSignal | undefined;
  scanned: ScanStream;
  /** The last full listing, and whether this run trusts the state instead of listing. */
  previousListing: number | undefined;
  trusted: boolean;
  rootDevChanged: boolean;
  uploads: UploadSpool;
}

/** The merge's result and the split points of the next listing. */
interface Merged {
  classification: Classification;
  nextSplits: string[];
  listedAtMs: number;
}

/** The plan, and what was judged on the way. */
interface Planned {
  plan: Plan;
  mismatchedMoves: MoveAction[];
  heldDeletes: number;
  plannedDeletes: number;
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
  refuseUnusableDirectory(options.localDir, {
    readOnly: mode.dryRun,
    force: options.forceDelete ?? false,
    deletes: options.deleteRemote ?? false,
  });
  const clock = new PhaseClock(dependencies.reporter);
  const targetKey: TargetKey = { endpoint: options.endpoint, ...options.location };
  const stateDir = options.stateDir ?? options.localDir;
  if (options.stateDir !== undefined && !mode.dryRun) {
    Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  }
  // One run at a time per target and state (dry runs only read).
  const lock: RunLock | undefined = mode.dryRun
    ? undefined
    : acquireLock(stateDir, targetKey, { localDir: options.localDir });
  let state: StateStore | undefined;
  const scanned = startScan(options.localDir);
  try {
    state = StateStore.open(stateDir, { readOnly: mode.dryRun });
    const registryProblem = mode.dryRun ? undefined : registerTarget(dependencies.registry, {
      localDir: options.localDir,
      stateDb: statePathOf(stateDir),
      ...targetKey,
    });
    const run = await openRun(options, dependencies, { mode, state, scanned, targetKey });
    clock.mark("open");

    dependencies.reporter?.phase?.("scan");
    const merged = await mergeStreams(run);
    clock.mark("merge", "scan", mergeSummary(merged.classification, run.trusted));
    if (merged.interrupted) return interruptedReport(run, merged.classification, clock);

    dependencies.reporter?.phase?.("plan");
    const planned = await planRun(run, merged.classification);
    clock.mark("plan", "plan", planSummary(planned.plan));

    dependencies.reporter?.phase?.("execute");
    const outcome = await executePlan(run, planned.plan);
    clock.mark("execute", "execute", outcomeSummary(outcome));
    for (const [part, ms] of Object.entries(outcome.phaseMs)) {
      clock.timings[`execute.${part}`] = ms;
    }
    const interrupted = run.signal?.aborted ?? false;
    const deferred = recordTheRun(run, { planned, outcome, merged, interrupted });
    return {
      plan: planned.plan,
      outcome,
      scanSkipped: merged.classification.scanSkipped,
      localFiles: merged.classification.localFiles,
      remoteObjects: merged.classification.remoteObjects,
      excluded: merged.classification.excluded,
      stateWrites: mode.dryRun ? 0 : state.writes,
      dryRun: mode.dryRun,
      timings: clock.timings,
      deferred,
      lockTakenOverFrom: lock?.tookOverFrom,
      heldDeletes: planned.heldDeletes,
      plannedDeletes: planned.plannedDeletes,
      registryProblem,
      mismatchedMoves: planned.mismatchedMoves,
      listing: listingInfo(run),
      interrupted,
    };
  } finally {
    scanned.cancel();
    state?.close();
    lock?.release();
  }
}

/** The shared context: the target's row, the recorder, whether to trust the state. */
async function openRun(
  options: TargetRunOptions,
  dependencies: TargetRunDeps,
  context: { mode: RunMode; state: StateStore; scanned: ScanStream; targetKey: TargetKey },
): Promise<Run> {
  const { mode, state, scanned } = context;
  // Stop soon after S3 becomes unreachable rather than failing file after file.
  const store = guardUnreachable(dependencies.store);
  const targetId = state.target(context.targetKey);
  const previousListing = state.listedAt(targetId);
  const rootDevBefore = state.rootDev(targetId);
  if (!mode.dryRun && targetId !== undefined) {
    await abortLeftoverUploads(state.openMultipartUploads(targetId), {
      store,
      done: (key) => state.noteMultipart(targetId, { key, state: "done" }),
    });
  }
  return {
    options,
    mode,
    store,
    state,
    targetId,
    recorder: mode.dryRun || targetId === undefined ? new NullRecorder() : state.recorder(targetId),
    reporter: dependencies.reporter,
    signal: dependencies.signal,
    scanned,
    previousListing,
    trusted: options.trustState === true && previousListing !== undefined &&
      Date.now() - previousListing < (options.maxStateAgeMs ?? WEEK_MS),
    rootDevChanged: rootDevBefore !== undefined && rootDevBefore !== scanned.rootDev,
    uploads: new UploadSpool(),
  };
}

/**
 * Merges the scan, the rows and the listing (or, trusting the state, the rows alone);
 * `interrupted` when the run was stopped meanwhile.
 *
 * @throws {OperationError|UsageError} when the listing fails, explained.
 */
async function mergeStreams(run: Run): Promise<Merged & { interrupted: boolean }> {
  const { options, state, targetId, store, reporter } = run;
  const { prefix } = options.location;
  const listedAtMs = Date.now();
  const nextSplits: string[] = [];
  let listed = 0;
  const rowCount = state.countRows(targetId);
  try {
    const classification = await classify({
      files: relativeToRoot(run.scanned),
      records: state.rows(targetId),
      remote: run.trusted ? undefined : relativeEntries(
        listInOrder(store, prefix, {
          splits: run.previousListing === undefined
            ? firstRunSplits(options.localDir, prefix)
            : state.listSplits(targetId),
          concurrency: options.listConcurrency ?? 16,
          pagesAhead: 2,
        }),
        prefix,
      ),
    }, {
      mode: run.mode.plan,
      isExcluded: excluder(options.excludes ?? []),
      keyProblem: (path) => keyProblem(prefix, path),
      rootDevChanged: run.rootDevChanged,
      inodeKnown: (ino) => rowCount > 0 && state.rowsWithInode(targetId, ino).length > 0,
      nfcKeys: state.nfcKeys(targetId),
      deleteRemote: run.mode.deletes !== "none",
      uploads: run.uploads,
      recorder: run.recorder,
      onListed: (key) => {
        // Every 1,000th listed key: the split points of the next listing.
        if (++listed % KEYS_PER_RANGE === 0) nextSplits.push(prefix + key);
        reporter?.counted?.({ files: 0, objects: 1 });
      },
      onScanned: (files) => reporter?.counted?.({ files, objects: 0 }),
      signal: run.signal,
    });
    return { classification, nextSplits, listedAtMs, interrupted: false };
  } catch (error) {
    if (run.signal?.aborted) {
      return { classification: emptyClassification(), nextSplits, listedAtMs, interrupted: true };
    }
    throw explainS3Error(error, {
      bucket: options.location.bucket,
      endpoint: options.endpoint || undefined,
    });
  }
}

/**
 * Files on the root's own file system carry device 0 (a row's device "the root's"): a
 * remount, or the next snapshot of a volume, changes the root's device number, and rows
 * keyed by it would all be rewritten for nothing.
 */
async function* relativeToRoot(scanned: ScanStream): AsyncGenerator<ScanBatch> {
  for await (const batch of scanned) {
    const rootDev = scanned.rootDev;
    for (const file of batch.files) if (file.dev === rootDev) file.dev = ROOT_DEVICE;
    yield batch;
  }
}

/** Decides renames, deferrals and the rest; judges moves, held and guarded deletes. */
async function planRun(run: Run, classification: Classification): Promise<Planned> {
  const { options, mode, state, targetId, store } = run;
  const { prefix } = options.location;
  await markRestored(classification.displaced, {
    requested: new Set(
      state.deferredMoves(targetId)
        .filter((move) => move.restoreRequestedMs !== undefined)
        .map((move) => move.from),
    ),
    store,
    prefix,
  });
  const source = archivedSource(classification);
  const archive = await archivedMovesWait({
    aws: options.endpoint === "",
    known: state.archiveReads(targetId),
    store,
    probeKey: source === undefined ? undefined : prefix + source,
  });
  if (archive.learned !== undefined && !mode.dryRun && targetId !== undefined) {
    state.setArchiveReads(targetId, archive.learned);
  }
  const plan = decide(classification, {
    mode: mode.plan,
    deleteRemote: mode.deletes !== "none",
    rootDevChanged: run.rootDevChanged,
    nfcKeys: state.nfcKeys(targetId),
    deferArchived: archive.wait,
    uploads: run.uploads,
  });
  const mismatchedMoves = options.verifyMoves
    ? await contentMismatches(plan.moves, { root: options.localDir })
    : [];
  dropMismatchedMoves(plan, mismatchedMoves, {
    mode: mode.plan,
    deleteRemote: mode.deletes !== "none",
  });
  const heldDeletes = holdDeletes(plan, {
    unseen: unseenEntries(classification.scanSkipped).length,
    force: options.forceDelete ?? false,
  });
  const plannedDeletes = guardPlannedDeletes(plan.deletes, {
    localFiles: classification.localFiles,
    remoteObjects: classification.remoteObjects,
    maxDelete: options.maxDelete,
    force: options.forceDelete,
  });
  // moves only judged them: another tool makes the deletes, after this run.
  if (mode.deletes === "judge") plan.deletes = plan.deletes.filter((action) => action.temporary);
  return { plan, mismatchedMoves, heldDeletes, plannedDeletes };
}

/** Executes the plan, or (dry run) reports what would be done. */
function executePlan(run: Run, plan: Plan): Promise<Outcome> {
  const { options, mode } = run;
  const executor: Executor = mode.dryRun || run.targetId === undefined
    ? new DryRunExecutor(run.reporter)
    : new LiveExecutor({
      store: run.store,
      recorder: run.recorder,
      prefix: options.location.prefix,
      root: options.localDir,
      concurrency: options.concurrency ?? 10,
      moveConcurrency: options.moveConcurrency ?? 64,
      storageClass: options.storageClass,
      reporter: run.reporter,
      movesOnly: mode.plan === "moves",
      signal: run.signal,
    });
  return executor.execute(plan);
}

/** Notes the run in the state (a dry run notes nothing) and returns the deferred moves. */
function recordTheRun(
  run: Run,
  facts: { planned: Planned; outcome: Outcome; merged: Merged; interrupted: boolean },
): DeferredRecord[] {
  const { options, state, targetId } = run;
  const { plan } = facts.planned;
  const waitingMoves = [...plan.deferred, ...facts.outcome.deferred];
  if (run.mode.dryRun || targetId === undefined) {
    return datedDeferrals(waitingMoves, state.deferredMoves(targetId));
  }
  return recordRun(state, targetId, {
    rootDev: run.scanned.rootDev,
    keysAsOnDisk: !facts.interrupted && facts.outcome.failureCount === 0 &&
      !waitingMoves.some((move) => move.from !== move.to && move.from === move.to.normalize("NFC")),
    listing: run.trusted
      ? undefined
      : { atMs: facts.merged.listedAtMs, splits: facts.merged.nextSplits },
    deferred: waitingMoves,
    archiveLog: options.archiveLog
      ? {
        path: options.archiveLog,
        target: { localDir: options.localDir, endpoint: options.endpoint, ...options.location },
      }
      : undefined,
    nowMs: Date.now(),
  });
}

/** The report of a run stopped before it planned anything: nothing was done. */
function interruptedReport(
  run: Run,
  classification: Classification,
  clock: PhaseClock,
): TargetReport {
  return {
    plan: emptyPlan(run.uploads),
    outcome: emptyOutcome(),
    scanSkipped: classification.scanSkipped,
    localFiles: classification.localFiles,
    remoteObjects: classification.remoteObjects,
    excluded: classification.excluded,
    stateWrites: run.mode.dryRun ? 0 : run.state.writes,
    dryRun: run.mode.dryRun,
    timings: clock.timings,
    deferred: datedDeferrals([], []),
    heldDeletes: 0,
    plannedDeletes: 0,
    mismatchedMoves: [],
    listing: listingInfo(run),
    interrupted: true,
  };
}

function listingInfo(run: Run): ListingInfo {
  return { kind: run.trusted ? "trusted" : "full", previousFullListingMs: run.previousListing };
}

/** Times the stages and tells the reporter when one ends. */
class PhaseClock {
  readonly timings: Record<string, number> = {};
  #since = performance.now();

  constructor(private readonly reporter: ExecutionReporter | undefined) {}

  mark(timing: string, phase?: RunPhase, summary?: string): void {
    const now = performance.now();
    const ms = Math.round(now - this.#since);
    this.timings[timing] = ms;
    this.#since = now;
    if (phase) this.reporter?.phaseDone?.(phase, ms, summary ?? "");
  }
}

function mergeSummary(classification: Classification, trusted: boolean): string {
  return `${classification.localFiles} local files, ${classification.remoteObjects} objects ${
    trusted ? "recorded (S3 not listed)" : "listed"
  }`;
}

function planSummary(plan: Plan): string {
  return `${plan.moves.length} moves, ${plan.uploads.count} uploads, ${plan.deletes.length} deletes, ${plan.deferred.length} deferred`;
}

function outcomeSummary(outcome: Outcome): string {
  return `${outcome.moves.length} moved, ${outcome.uploads} uploaded, ${outcome.deletes} deleted, ${outcome.failureCount} failed`;
}
