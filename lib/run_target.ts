/**
 * The pipeline of one target, shared by `sync`, `moves` and `status`: scan → plan →
 * execute → record. The scan, the state rows and the listing are merged as sorted
 * streams; every policy is a named function of its stage, and this module only wires
 * them in order.
 *
 * @module
 */
import type { TargetKey } from "./model.ts";
import {
  type Done,
  executePlan,
  mergeStreams,
  mergeSummary,
  openRun,
  outcomeSummary,
  PhaseClock,
  planRun,
  planSummary,
  recordTheRun,
  reportOf,
  type Run,
  runModeOf,
} from "./run/stages.ts";
import type { TargetReport, TargetRunDeps, TargetRunOptions } from "./run/types.ts";
import { refuseUnusableDirectory } from "./scan/local_dir.ts";
import { startScan } from "./scan/stream.ts";
import { acquireLock, type RunLock } from "./state/lock.ts";
import { registerTarget } from "./state/registry.ts";
import { statePathOf, StateStore } from "./state/store.ts";

export type { ListingInfo, TargetReport, TargetRunDeps, TargetRunOptions } from "./run/types.ts";

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
  let uploads: Run["uploads"] | undefined;
  const scanned = startScan(options.localDir);
  try {
    state = StateStore.open(stateDir, { readOnly: mode.dryRun });
    const registryProblem = mode.dryRun ? undefined : registerTarget(dependencies.registry, {
      localDir: options.localDir,
      stateDb: statePathOf(stateDir),
      ...targetKey,
    });
    const run = await openRun(options, dependencies, { mode, state, scanned, targetKey });
    uploads = run.uploads;
    clock.mark("open");

    dependencies.reporter?.phase?.("scan");
    const merged = await mergeStreams(run);
    clock.mark("merge", "scan", mergeSummary(merged.classification, run.trusted));
    const report = (done?: Done): TargetReport => ({
      ...reportOf(run, merged.classification, clock, done),
      lockTakenOverFrom: lock?.tookOverFrom,
      registryProblem,
    });
    if (merged.interrupted) return report();

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
    return report({ planned, outcome, deferred, interrupted });
  } finally {
    // The uploads' spool (a temporary SQLite file past 20,000) goes whatever stopped the
    // run; the executors close it too when they finish.
    uploads?.close();
    scanned.cancel();
    state?.close();
    lock?.release();
  }
}
