/**
 * The end of a `batch` run: one row per target in a table, the `--json` object of each
 * target, and the exit code of the whole run (the worst of the targets).
 *
 * @module
 */
import type { BatchTarget } from "./config.ts";
import { ExitCode, type ExitCodeValue } from "../../errors.ts";
import { formatCount, formatDuration } from "../../report/format.ts";
import type { JsonSummary } from "../../report/summary.ts";
import { formatS3Url } from "../../s3/location.ts";

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
  /** The engine that made the uploads and deletes. */
  engine: "aws" | "native";
  summary?: JsonSummary;
  aws?: AwsResult;
  /** Why the target was not run at all (a missing or empty directory). */
  notRun?: string;
  /** The delete guard refused its deletes: nothing was changed. */
  refused?: string;
  /** What failed. */
  error?: string;
  exitCode: ExitCodeValue;
  durationMs: number;
}

/**
 * The worst exit code: a failure (1), then a target refused or skipped with nothing
 * changed (2), then something that needs the user (3), then done (0).
 */
export function worst(codes: number[]): ExitCodeValue {
  for (const code of [ExitCode.failure, ExitCode.usage, ExitCode.attention]) {
    if (codes.includes(code)) return code;
  }
  return ExitCode.ok;
}

function uploadsOf(result: TargetResult): number {
  return result.engine === "native" ? result.summary?.uploads ?? 0 : result.aws?.uploads ?? 0;
}

function deletesOf(result: TargetResult): number {
  return result.engine === "native" ? result.summary?.deletes ?? 0 : result.aws?.deletes ?? 0;
}

function resultCell(result: TargetResult): string {
  if (result.notRun) return `not run: ${result.notRun}`;
  if (result.refused) return "refused: too many deletes";
  if (!result.summary) return "failed";
  const counts = `${formatCount(uploadsOf(result))} up, ${formatCount(deletesOf(result))} del`;
  if (result.engine === "native") {
    const errors = result.summary.errors;
    return `native ${errors ? `${errors} errors` : "ok"}: ${counts}`;
  }
  if (result.aws?.exitCode === undefined) return `aws ${result.aws?.note ?? "not run"}`;
  return `aws ${result.aws.exitCode === 0 ? "ok" : result.aws.note}: ${counts}`;
}

/** The table printed at the end: one row per target. */
export function table(results: TargetResult[]): string[] {
  const rows = [["Local path", "Target", "Moves", "Deferred", "Uploads and deletes", "Time"]];
  for (const result of results) {
    rows.push([
      result.target.localPath,
      formatS3Url(result.target.location),
      result.summary ? formatCount(result.summary.moves) : "-",
      result.summary ? formatCount(result.summary.deferred) : "-",
      resultCell(result),
      formatDuration(result.durationMs),
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

/** The `--json` object of one target. */
export function targetJson(result: TargetResult) {
  const summary = result.summary;
  return {
    ...summary,
    line: result.target.line,
    local: result.target.localPath,
    target: formatS3Url(result.target.location),
    engine: result.engine,
    moves: summary?.moves ?? 0,
    deferred: summary?.deferred ?? 0,
    errors: summary?.errors ?? (result.error ? 1 : 0),
    bytesUploaded: summary?.bytesUploaded ?? 0,
    bytesMovedServerSide: summary?.bytesMovedServerSide ?? 0,
    requests: summary?.requests ?? {},
    awsExitCode: result.engine === "native" ? undefined : result.aws?.exitCode ?? null,
    uploads: uploadsOf(result),
    deletes: deletesOf(result),
    notRun: result.notRun,
    refused: result.refused,
    error: result.error ?? result.aws?.note,
    durationMs: Math.round(result.durationMs),
    exitCode: result.exitCode,
  };
}
