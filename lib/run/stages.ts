/**
 * The stages of a target's run, in the order `runTarget` wires them: open (the state,
 * the target's row, leftover uploads), merge (scan, rows and listing as sorted streams),
 * plan (renames, deferrals, verification, held and guarded deletes), execute, and record
 * (what the next run needs) — each a function of the shared {@linkcode Run}.
 *
 * @module
 */
import { DryRunExecutor } from "../execute/dry_run.ts";
import {
  emptyOutcome,
  type ExecutionReporter,
  type Executor,
  type Outcome,
  type RunPhase,
} from "../execute/executor.ts";
import { archivedMovesWait } from "../execute/archive_reads.ts";
import { abortLeftoverUploads } from "../execute/leftovers.ts";
import { LiveExecutor } from "../execute/live.ts";
import { markRestored } from "../execute/restored.ts";
import { contentMismatches } from "../execute/verify.ts";
import {
  type DeferredRecord,
  type MoveAction,
  type Plan,
  ROOT_DEVICE,
  type ScanBatch,
  type StateRecorder,
  type TargetKey,
} from "../model.ts";
import { guardPlannedDeletes, holdDeletes, unseenEntries } from "../plan/delete_guard.ts";
import { archivedSource, decide, emptyPlan } from "../plan/decide.ts";
import { type Classification, classify, emptyClassification } from "../plan/merge.ts";
import { dropMismatchedMoves } from "../plan/verify.ts";
import { explainS3Error } from "../s3/errors.ts";
import { keyProblem } from "../s3/location.ts";
import type { ObjectStore } from "../s3/store.ts";
import { guardUnreachable } from "../s3/unreachable_guard.ts";
import { excluder } from "../scan/filter.ts";
import { firstRunSplits, listInOrder } from "../scan/listing.ts";
import { relativeEntries } from "../scan/remote_entries.ts";
import type { ScanStream } from "../scan/stream.ts";
import { datedDeferrals, recordRun } from "../state/run_bookkeeping.ts";
import { NullRecorder, type StateStore } from "../state/store.ts";
import { UploadSpool } from "../state/upload_spool.ts";
import type { ListingInfo, TargetReport, TargetRunDeps, TargetRunOptions } from "./types.ts";

/**
 * Split points of the next listing: every this many listed keys, one page per range. With
 * 16 ranges in flight a listing moves 16 pages per round trip while at most 32 pages
 * (two per range) wait for the merge.
 */
const KEYS_PER_RANGE = 1000;
const WEEK_MS = 7 * 24 * 3_600_000;

/** What the run is, decided once: what it may change, what it plans, what it deletes. */
export interface RunMode {
  dryRun: boolean;
  plan: "sync" | "moves";
  /** `execute`: sync --delete; `judge`: planned for the guard only; `none`. */
  deletes: "execute" | "judge" | "none";
}

export function runModeOf(options: TargetRunOptions): RunMode {
  const dryRun = options.mode === "status" || (options.dryRun ?? false);
  if (options.mode === "moves") {
    return { dryRun, plan: "moves", deletes: options.checkDeletes ? "judge" : "none" };
  }
  return { dryRun, plan: "sync", deletes: options.deleteRemote ? "execute" : "none" };
}

/** What the stages of one run share. */
export interface Run {
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
export interface Merged {
  classification: Classification;
  nextSplits: string[];
  listedAtMs: number;
}

/** The plan, and what was judged on the way. */
export interface Planned {
  plan: Plan;
  mismatchedMoves: MoveAction[];
  heldDeletes: number;
  plannedDeletes: number;
}

/** The shared context: the target's row, the recorder, whether to trust the state. */
export async function openRun(
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
  const recorder: StateRecorder = mode.dryRun || targetId === undefined
    ? new NullRecorder()
    : state.recorder(targetId);
  if (!mode.dryRun && targetId !== undefined) {
    await abortLeftoverUploads(state.openMultipartUploads(targetId), {
      store,
      done: (key) => recorder.multipart?.(key, "done"),
    });
  }
  return {
    options,
    mode,
    store,
    state,
    targetId,
    recorder,
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
export async function mergeStreams(run: Run): Promise<Merged & { interrupted: boolean }> {
  const { options, state, targetId, store, reporter } = run;
  const { prefix } = options.location;
  const listedAtMs = Date.now();
  const nextSplits: string[] = [];
  let listed = 0;
  // A first run has no row to look an inode up in.
  const hasRows = state.hasRows(targetId);
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
      inodeKnown: (ino) => hasRows && state.rowsWithInode(targetId, ino, 1).length > 0,
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
export async function planRun(run: Run, classification: Classification): Promise<Planned> {
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
export function executePlan(run: Run, plan: Plan): Promise<Outcome> {
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
      // Trusting the state, a move copies on a recorded ETag: where the server may
      // ignore the copy's precondition (any but S3 itself), the source is checked first.
      checkSources: run.trusted && options.endpoint !== "",
    });
  return executor.execute(plan);
}

/** Notes the run in the state (a dry run notes nothing) and returns the deferred moves. */
export function recordTheRun(
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

/** What a run did, once it has: planned and executed, or stopped before it planned. */
export interface Done {
  planned: Planned;
  outcome: Outcome;
  deferred: TargetReport["deferred"];
  interrupted: boolean;
}

/**
 * The report of a run: of what it did (`done`), or of a run stopped before it planned
 * anything (`done` undefined: nothing was done). The caller adds what only it knows (the
 * lock's and the registry's news).
 */
export function reportOf(
  run: Run,
  classification: Classification,
  clock: PhaseClock,
  done: Done | undefined,
): TargetReport {
  return {
    plan: done?.planned.plan ?? emptyPlan(run.uploads),
    outcome: done?.outcome ?? emptyOutcome(),
    scanSkipped: classification.scanSkipped,
    localFiles: classification.localFiles,
    remoteObjects: classification.remoteObjects,
    excluded: classification.excluded,
    stateWrites: run.mode.dryRun ? 0 : run.state.writes,
    dryRun: run.mode.dryRun,
    timings: clock.timings,
    deferred: done?.deferred ?? [],
    heldDeletes: done?.planned.heldDeletes ?? 0,
    plannedDeletes: done?.planned.plannedDeletes ?? 0,
    mismatchedMoves: done?.planned.mismatchedMoves ?? [],
    listing: listingInfo(run),
    interrupted: done?.interrupted ?? true,
  };
}

function listingInfo(run: Run): ListingInfo {
  return { kind: run.trusted ? "trusted" : "full", previousFullListingMs: run.previousListing };
}

/** Times the stages and tells the reporter when one ends. */
export class PhaseClock {
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

export function mergeSummary(classification: Classification, trusted: boolean): string {
  return `${classification.localFiles} local files, ${classification.remoteObjects} objects ${
    trusted ? "recorded (S3 not listed)" : "listed"
  }`;
}

export function planSummary(plan: Plan): string {
  return `${plan.moves.length} moves, ${plan.uploads.count} uploads, ${plan.deletes.length} deletes, ${plan.deferred.length} deferred`;
}

export function outcomeSummary(outcome: Outcome): string {
  return `${outcome.moves.length} moved, ${outcome.uploads} uploaded, ${outcome.deletes} deleted, ${outcome.failureCount} failed`;
}
