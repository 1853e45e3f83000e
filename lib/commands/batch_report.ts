/**
 * The end of a `batch` run: one row per target in a table, the `--json` object of each
 * target, and the exit code of the whole run (the worst of the targets).
 *
 * @module
 */
import type { BatchTarget } from "../config.ts";
import { ExitCode, type ExitCodeValue } from "../errors.ts";
import { formatCount, formatDuration } from "../format.ts";
import type { JsonSummary } from "../report.ts";
import { formatS3Url } from "../target.ts";

/** What the aws step of a target did. */
export interface AwsResult {
  exitCode?: number;
  uploads: number;
  deletes: number;
  /** Why it was not run, or why it failed. */
  note?: string;
}

/** The outcome of one target. */
export interface TargetResult {
  target: BatchTarget;
  summary?: JsonSummary;
  aws?: AwsResult;
  error?: string;
  exitCode: ExitCodeValue;
  durationMs: number;
}

/** The worst exit code: failure over attention over ok. */
export function worst(codes: number[]): ExitCodeValue {
  if (codes.includes(ExitCode.failure)) return ExitCode.failure;
  return codes.includes(ExitCode.attention) ? ExitCode.attention : ExitCode.ok;
}

function resultCell(result: TargetResult, native: boolean): string {
  if (!result.summary) return "not run (moves failed)";
  const uploads = native ? result.summary.uploads : result.aws?.uploads ?? 0;
  const deletes = native ? result.summary.deletes : result.aws?.deletes ?? 0;
  const status = native
    ? (result.summary.errors ? `${result.summary.errors} errors` : "ok")
    : result.aws?.exitCode === 0
    ? "ok"
    : result.aws?.note ?? "not run";
  if (!native && result.aws?.exitCode === undefined) return status;
  return `${status}: ${formatCount(uploads)} up, ${formatCount(deletes)} del`;
}

/** The table printed at the end: one row per target. */
export function table(results: TargetResult[], native: boolean): string[] {
  const rows = [[
    "Local path",
    "Target",
    "Moves",
    "Deferred",
    native ? "Sync" : "aws s3 sync",
    "Time",
  ]];
  for (const result of results) {
    rows.push([
      result.target.localPath,
      formatS3Url(result.target.location),
      result.summary ? formatCount(result.summary.moves) : "failed",
      result.summary ? formatCount(result.summary.deferred) : "-",
      resultCell(result, native),
      formatDuration(result.durationMs),
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

/** The `--json` object of one target. */
export function targetJson(result: TargetResult, native: boolean) {
  const summary = result.summary;
  return {
    ...summary,
    line: result.target.line,
    local: result.target.localPath,
    target: formatS3Url(result.target.location),
    moves: summary?.moves ?? 0,
    deferred: summary?.deferred ?? 0,
    errors: summary?.errors ?? (result.error ? 1 : 0),
    bytesUploaded: summary?.bytesUploaded ?? 0,
    bytesMovedServerSide: summary?.bytesMovedServerSide ?? 0,
    requests: summary?.requests ?? {},
    awsExitCode: native ? undefined : result.aws?.exitCode ?? null,
    uploads: native ? summary?.uploads ?? 0 : result.aws?.uploads ?? 0,
    deletes: native ? summary?.deletes ?? 0 : result.aws?.deletes ?? 0,
    error: result.error ?? result.aws?.note,
    durationMs: Math.round(result.durationMs),
    exitCode: result.exitCode,
  };
}
