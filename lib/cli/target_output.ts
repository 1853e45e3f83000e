/**
 * What a target command prints and logs besides the summary: a line per action (per
 * delete always, as `aws s3 sync` prints `delete:` lines), a line per stage in the log,
 * the warnings a report carries, and what an unfinished run had done.
 *
 * @module
 */
import type { ExecutionReporter } from "../execute/executor.ts";
import { unseenEntries } from "../plan/delete_guard.ts";
import { formatBytes, formatCount, formatDuration } from "../report/format.ts";
import type { Output } from "../report/log.ts";
import type { RunTally } from "../report/progress.ts";
import type { TargetReport } from "../run_target.ts";
import { formatS3Url, type S3Location } from "../s3/location.ts";

/**
 * The log's side of the reporter: each action a line (printed with --verbose; every one
 * in a dry run, and each delete always, as `aws s3 sync` prints `delete:` lines, for the
 * cron mail), each stage a line with its duration and counts (log only).
 */
export function reporterFor(
  output: Output,
  context: { dryRun: boolean; location: S3Location },
): ExecutionReporter {
  const { dryRun } = context;
  const line = dryRun ? output.info.bind(output) : output.detail.bind(output);
  const verb = dryRun ? ["would move", "would upload"] : ["moved", "uploaded"];
  return {
    phaseDone: (phase, ms, summary) =>
      output.log(`${PHASE_NAMES[phase]}: ${summary} in ${formatDuration(ms)}`),
    moved: (step) =>
      line(
        `${verb[0]} ${step.originalFrom ?? step.from} → ${step.to} (${step.reason}${
          step.viaTemp ? ", via a temporary key" : ""
        })`,
      ),
    uploaded: (action) =>
      line(`${verb[1]} ${action.key} (${action.reason}, ${formatBytes(action.file.size)})`),
    deleted: (action) =>
      dryRun
        ? line(`would delete ${action.key} (${action.reason})`)
        : output.info(`delete: ${formatS3Url(context.location, action.key)}`),
    failed: (failure) => output.error(failure.message),
    fellBack: (step, why) =>
      output.warn(`Cannot move "${step.from}" to "${step.to}" (${why}): uploaded instead`),
  };
}

const PHASE_NAMES = { scan: "scan and listing", plan: "plan", execute: "execute" } as const;

/** What a run that did not finish had done, in a sentence fragment. */
export function doneSoFar(tally: RunTally): string {
  const { done } = tally.tally;
  return `moved ${formatCount(done.moves)}, uploaded ${formatCount(done.uploads)} (${
    formatBytes(done.bytes)
  }), deleted ${formatCount(done.deletes)}, ${formatCount(done.failed)} failed`;
}

/** What the run found that the user should know: warnings and, with -v, details. */
export function reportFindings(output: Output, report: TargetReport): void {
  if (report.registryProblem) {
    output.warn(
      `Could not list this target in the registry of synced targets (${report.registryProblem}); "s3-smart-sync restore" without arguments may not find its deferred moves.`,
    );
  }
  if (report.lockTakenOverFrom) {
    output.log(
      `took over the lock of a run that ended without releasing it (${report.lockTakenOverFrom})`,
    );
  }
  for (const move of report.deferred) {
    output.detail(`deferred ${move.from} → ${move.to}: ${move.reason}`);
  }
  for (const move of report.mismatchedMoves) {
    output.warn(
      `"${move.to}" has the inode, size and mtime of "${move.from}" but other content (its MD5 differs from the object's ETag): uploaded instead of moved`,
    );
  }
  const unseen = new Set(unseenEntries(report.scanSkipped));
  for (const entry of report.scanSkipped) {
    if (unseen.has(entry)) output.warn(`Skipped "${entry.path}": ${entry.reason}`);
    else output.detail(`skipped ${entry.path}: ${entry.reason}`);
  }
  for (const entry of report.plan.skipped) {
    output.warn(`Skipped "${entry.path}": ${entry.reason}`);
  }
  if (report.heldDeletes > 0) {
    output.warn(
      `Held back ${report.heldDeletes} delete(s): some files could not be read or named (see above), and their objects may be the ones that look deleted. Fix them, or pass --force-delete.`,
    );
  }
}
