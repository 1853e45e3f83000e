/**
 * Summaries of a run: the human lines printed at the end and the `--json` object.
 *
 * @module
 */
import { ExitCode, type ExitCodeValue } from "../errors.ts";
import { formatBytes, formatCount, formatDuration } from "./format.ts";
import { summariseRenames } from "./renames.ts";
import type { ListingInfo, TargetReport } from "../run_target.ts";

/** The `--json` object printed when a command ends. */
export interface JsonSummary {
  command: string;
  local: string;
  target: string;
  dryRun: boolean;
  moves: number;
  folderRenames: Array<{ from: string; to: string; files: number; bytes: number }>;
  /** Single-file renames (the first 100). */
  fileRenames: Array<{ from: string; to: string; size: number }>;
  uploads: number;
  deletes: number;
  deferred: number;
  /** Deferred moves (the first 100). */
  deferredMoves: Array<{ from: string; to: string; storageClass?: string; reason: string }>;
  /** Uploads held back until a deferred move is done. */
  waiting: number;
  /** Files deleted or replaced (by another file, a link, a FIFO) between scan and upload. */
  vanished: number;
  adopted: number;
  unchanged: number;
  skipped: number;
  errors: number;
  failures: Array<{ action: string; key: string; message: string }>;
  bytesUploaded: number;
  bytesMovedServerSide: number;
  requests: Record<string, number>;
  stateWrites: number;
  /** Whether the run listed S3 (`full`) or planned from the state DB (`trusted`). */
  listing: ListingInfo;
  /** Milliseconds per phase (see `TargetReport.timings`). */
  phasesMs: Record<string, number>;
  durationMs: number;
  exitCode: number;
}

/** The exit code a target's report deserves. */
export function exitCodeOf(report: TargetReport): ExitCodeValue {
  if (report.outcome.failures.some((failure) => failure.kind === "error")) return ExitCode.failure;
  if (
    report.outcome.failureCount > 0 || report.deferred.length > 0 || report.outcome.waiting > 0 ||
    report.scanSkipped.some((entry) => entry.kind === "unreadable" || entry.kind === "invalid name")
  ) return ExitCode.attention;
  return ExitCode.ok;
}

/** Builds the `--json` object. */
export function jsonSummary(
  report: TargetReport,
  context: {
    command: string;
    local: string;
    target: string;
    requests: Record<string, number>;
    durationMs: number;
  },
): JsonSummary {
  const { outcome, plan } = report;
  const renames = summariseRenames(
    outcome.moves.map((move) => ({
      from: move.originalFrom ?? move.from,
      to: move.to,
      size: move.size,
    })),
  );
  return {
    command: context.command,
    local: context.local,
    target: context.target,
    dryRun: report.dryRun,
    moves: outcome.moves.length,
    folderRenames: renames.folders,
    fileRenames: renames.files.slice(0, 100),
    uploads: outcome.uploads,
    deletes: outcome.deletes,
    deferred: report.deferred.length,
    deferredMoves: report.deferred.slice(0, 100).map(({ from, to, storageClass, reason }) => ({
      from,
      to,
      storageClass,
      reason,
    })),
    waiting: outcome.waiting,
    vanished: outcome.vanished,
    adopted: plan.adopted,
    unchanged: plan.unchanged,
    skipped: report.scanSkipped.length + plan.skipped.length,
    errors: outcome.failureCount,
    failures: outcome.failures.map(({ action, key, message }) => ({ action, key, message })),
    bytesUploaded: outcome.bytesUploaded,
    bytesMovedServerSide: outcome.bytesMovedServerSide,
    requests: context.requests,
    stateWrites: report.stateWrites,
    listing: report.listing,
    phasesMs: report.timings,
    durationMs: Math.round(context.durationMs),
    exitCode: exitCodeOf(report),
  };
}

/**
 * The human summary: folder renames one line each, file renames, then a one-line
 * total that reads well in a cron mail.
 */
export function summaryLines(
  summary: JsonSummary,
  options: { renameLines?: number; nowMs?: number } = {},
): string[] {
  const lines: string[] = [];
  const would = summary.dryRun ? "would be " : "";
  const limit = options.renameLines ?? 20;
  const renames = summary.folderRenames.slice(0, limit);
  for (const folder of renames) {
    lines.push(
      `  folder ${quote(folder.from || "(root)/")} → ${quote(folder.to || "(root)/")}: ${
        formatCount(folder.files)
      } file${folder.files === 1 ? "" : "s"} (${
        formatBytes(folder.bytes)
      }) ${would}moved server-side`,
    );
  }
  if (summary.folderRenames.length > limit) {
    lines.push(`  … and ${summary.folderRenames.length - limit} more folder renames (see the log)`);
  }
  const fileLimit = Math.max(0, limit - renames.length);
  for (const file of summary.fileRenames.slice(0, fileLimit)) {
    lines.push(`  file ${quote(file.from)} → ${quote(file.to)} ${would}moved server-side`);
  }
  const moreFiles = summary.moves - summary.folderRenames.reduce((sum, f) => sum + f.files, 0) -
    Math.min(fileLimit, summary.fileRenames.length);
  if (moreFiles > 0) {
    lines.push(`  … and ${formatCount(moreFiles)} more file renames (see the log)`);
  }
  lines.push(totalLine(summary));
  const requests = Object.entries(summary.requests).sort(([a], [b]) => a.localeCompare(b));
  lines.push(
    `S3 requests: ${
      requests.length === 0
        ? "none"
        : requests.map(([name, count]) => `${formatCount(count)} ${name}`).join(", ")
    }; ${listingText(summary.listing, options.nowMs ?? Date.now())}`,
  );
  return lines;
}

/**
 * Which kind of run it was: S3 listed, or the state trusted (and since when).
 *
 * @example
 * ```ts
 * listingText({ kind: "trusted", previousFullListingMs: 0 }, 3 * 3_600_000);
 * // "S3 not listed: trusted the state DB (last full listing 3 h ago)"
 * ```
 */
export function listingText(listing: ListingInfo, nowMs: number): string {
  if (listing.kind === "full") return "S3 listed in full";
  const age = listing.previousFullListingMs === undefined
    ? "never listed in full"
    : `last full listing ${ageText(nowMs - listing.previousFullListingMs)} ago`;
  return `S3 not listed: trusted the state DB (${age})`;
}

function ageText(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** The one-line total: moved, uploaded, deleted, unchanged, skipped, errors, time. */
export function totalLine(summary: JsonSummary): string {
  const verb = summary.dryRun ? "Would move" : "Moved";
  return `${verb} ${formatCount(summary.moves)} (${
    formatBytes(summary.bytesMovedServerSide)
  } server-side), ` +
    `${summary.dryRun ? "would upload" : "uploaded"} ${formatCount(summary.uploads)} (${
      formatBytes(summary.bytesUploaded)
    }), ` +
    `${summary.dryRun ? "would delete" : "deleted"} ${formatCount(summary.deletes)}, ` +
    `${formatCount(summary.unchanged + summary.adopted)} unchanged` +
    (summary.adopted ? ` (${formatCount(summary.adopted)} adopted)` : "") +
    (summary.skipped ? `, ${formatCount(summary.skipped)} skipped` : "") +
    (summary.vanished
      ? `, ${formatCount(summary.vanished)} gone or replaced during the run (next run)`
      : "") +
    `, ${summary.errors} error${summary.errors === 1 ? "" : "s"} in ${
      formatDuration(summary.durationMs)
    }`;
}

/**
 * Lines that say what waits for the user and what to do about it (moves waiting for a
 * restore). They are warnings: printed even with `--quiet`, for cron mail.
 */
export function attentionLines(summary: JsonSummary): string[] {
  if (summary.deferred === 0) return [];
  const classes = [...new Set(summary.deferredMoves.map((move) => move.storageClass))]
    .filter(Boolean).join(", ");
  return [
    `${formatCount(summary.deferred)} move${summary.deferred === 1 ? "" : "s"} ${
      summary.dryRun ? "would wait" : "wait"
    } for archived objects${classes ? ` (${classes})` : ""} to be restored` +
    (summary.waiting ? `, and ${formatCount(summary.waiting)} upload(s) wait for them` : "") +
    `: run "s3-smart-sync restore" to start the restores; the next run completes the moves.`,
  ];
}

function quote(text: string): string {
  return `"${text}"`;
}
