/**
 * `batch [--config FILE]`: for each target of the config file, server-side moves, then
 * `aws s3 sync --delete` (or the built-in sync with `--engine native`), and a table.
 *
 * @module
 */
import { ExitCode, UsageError } from "../../errors.ts";
import { formatCount, formatDuration } from "../../report/format.ts";
import { redactUrl, RunLog } from "../../report/log.ts";
import { effectiveEndpoint } from "../../s3/client.ts";
import {
  type CliDeps,
  type CommandResult,
  type CommandSpec,
  defaultCliDeps,
  INTERRUPT_EXIT_CODES,
} from "../command.ts";
import { listenForInterrupt } from "../interrupt.ts";
import {
  CONNECTION_OPTIONS,
  OUTPUT_OPTIONS,
  type ParsedArgs,
  parseRunOptions,
  stringOption,
} from "../options.ts";
import { AWS_MISSING } from "./aws_cli.ts";
import { defaultConfigPath, readConfig } from "./config.ts";
import { table, targetJson, type TargetResult, worst } from "./report.ts";
import { type BatchRunOptions, runBatchTarget } from "./target.ts";

/** Options of `batch`, parsed. */
export interface BatchOptions extends BatchRunOptions {
  configPath: string;
  logRetentionDays: number;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * Turns the parsed arguments of `batch` into its options (the config file is read by
 * {@linkcode runBatch}).
 *
 * @throws {UsageError} on an argument or a bad option value.
 */
export function parseBatch(args: ParsedArgs): BatchOptions {
  const { values, positionals } = args;
  if (positionals.length > 0) {
    throw new UsageError(
      `"batch" takes no arguments, but got "${
        positionals[0]
      }": its targets come from the config file (--config FILE).`,
    );
  }
  const engine = stringOption(values, "engine") ?? "aws";
  if (engine !== "aws" && engine !== "native") {
    throw new UsageError(`--engine takes aws or native, not "${engine}".`);
  }
  return {
    configPath: stringOption(values, "config") ?? defaultConfigPath(),
    engine,
    ...parseRunOptions(values),
  };
}

/**
 * Runs `batch` with parsed options: reads the config (exit 2 before anything is
 * touched when it is wrong or `aws` is missing), runs each target, prints the table.
 *
 * @throws {UsageError} on a bad config file or a missing `aws` with `--engine aws`.
 */
export async function runBatch(
  options: BatchOptions,
  deps: CliDeps = defaultCliDeps,
): Promise<CommandResult> {
  const started = performance.now();
  const targets = readConfig(options.configPath);
  const native = options.engine === "native";
  if (!native && deps.aws.locate() === undefined) {
    throw new UsageError(`${AWS_MISSING} Nothing was changed.`);
  }
  const output = RunLog.open(
    { dir: options.logDir, command: "batch", retentionDays: options.logRetentionDays },
    options,
  );
  const interrupt = listenForInterrupt((signal) =>
    output.warn(
      `${signal} received: stopping once what is under way is done and recorded; the targets after it are not run (send it again to stop at once).`,
    )
  );
  try {
    const endpoint = effectiveEndpoint(options.connection);
    output.log(
      `s3-smart-sync batch ${options.configPath}: ${targets.length} target(s), engine ${options.engine}${
        endpoint ? `, endpoint ${redactUrl(endpoint)}` : ""
      }${options.dryRun ? " [dry run]" : ""}`,
    );
    const results: TargetResult[] = [];
    for (const target of targets) {
      if (interrupt.signal.aborted) {
        results.push({
          target,
          engine: options.engine,
          notRun: `interrupted by ${interrupt.received}`,
          exitCode: ExitCode.ok,
          durationMs: 0,
        });
        continue;
      }
      results.push(
        await runBatchTarget(target, { options, deps, output, signal: interrupt.signal }),
      );
    }
    const exitCode = interrupt.exitCode ?? worst(results.map((result) => result.exitCode));
    const perTarget = results.map(targetJson);
    const sum = (
      field:
        | "moves"
        | "deferred"
        | "errors"
        | "uploads"
        | "deletes"
        | "bytesUploaded"
        | "bytesMovedServerSide",
    ) => perTarget.reduce((total, target) => total + target[field], 0);
    const requests: Record<string, number> = {};
    for (const target of perTarget) {
      for (const [name, count] of Object.entries(target.requests)) {
        requests[name] = (requests[name] ?? 0) + count;
      }
    }
    const totals = {
      targets: results.length,
      failed: results.filter((result) => result.exitCode === ExitCode.failure).length,
      notRun: results.filter((result) => result.notRun !== undefined).length,
      refused: results.filter((result) => result.refused !== undefined).length,
      moves: sum("moves"),
      uploads: sum("uploads"),
      deletes: sum("deletes"),
      deferred: sum("deferred"),
      errors: sum("errors"),
      bytesUploaded: sum("bytesUploaded"),
      bytesMovedServerSide: sum("bytesMovedServerSide"),
      requests,
    };
    const durationMs = Math.round(performance.now() - started);
    output.info("");
    for (const line of table(results)) output.info(line);
    const last = `Batch${options.dryRun ? " (dry run)" : ""}: ${totals.targets} target(s)${
      totals.failed ? `, ${totals.failed} failed` : ""
    }${totals.notRun ? `, ${totals.notRun} not run` : ""}${
      totals.refused ? `, ${totals.refused} refused` : ""
    }; ${formatCount(totals.moves)} moved server-side, ${formatCount(totals.uploads)} uploaded, ${
      formatCount(totals.deletes)
    } deleted, ${formatCount(totals.deferred)} deferred in ${formatDuration(durationMs)}`;
    output.info(last);
    if (totals.deferred > 0) {
      output.warn(
        `${
          formatCount(totals.deferred)
        } move(s) wait for archived objects to be restored: run "s3-smart-sync restore" to start the restores; the next batch completes them.`,
      );
    }
    if (interrupt.received) {
      output.warn(
        `Interrupted by ${interrupt.received}: what was done is recorded. Run again to continue.`,
      );
    }
    if (options.quiet && !options.json && exitCode !== 0) console.error(last);
    if (output.logPath) output.detail(`log: ${output.logPath}`);
    return {
      exitCode,
      json: {
        command: "batch",
        config: options.configPath,
        engine: options.engine,
        dryRun: options.dryRun,
        ...totals,
        targets: perTarget,
        totals,
        durationMs,
        exitCode,
      },
    };
  } finally {
    interrupt.dispose();
    output.close();
  }
}

/** `batch`: for each config target, moves, then aws s3 sync (or the built-in sync). */
export const batchCommand: CommandSpec<BatchOptions> = {
  name: "batch",
  synopsis: "[--config FILE]",
  summary: "for each config target: moves, then aws s3 sync",
  description:
    `For each target line of the config file (default ~/.s3-smart-sync.conf; "s3-smart-sync init"
writes a commented sample), in order:
  1. move the objects of renamed files and folders server-side, as "s3-smart-sync moves",
     and judge the deletes step 2 would make with the same guard as "sync --delete";
  2. run "aws s3 sync <local_path> s3://bucket/prefix --delete" with the target's excludes
     and the state DB excluded.
A target whose moves wait for archive restores is synced by the built-in "sync --delete"
instead (aws would upload their new paths and delete the archived objects). A target whose
directory is missing or empty (an unmounted volume) is skipped; a failing target does not
stop the others. At the end a table shows each target.

The delete guard refuses a target's deletes (and then changes nothing for it) when its
directory has no files, or when more than half of the objects under its prefix (and more
than ten) would go, unless --max-delete or --force-delete allows them.`,
  options: [
    "config",
    "engine",
    "dry-run",
    "max-delete",
    "force-delete",
    "storage-class",
    "concurrency",
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTIONS,
  ],
  examples: [
    "s3-smart-sync batch",
    "s3-smart-sync batch --config /volume1/homes/admin/backup.conf --storage-class DEEP_ARCHIVE --quiet",
    "s3-smart-sync batch --engine native --dry-run",
  ],
  exitCodes: [
    "The worst of the targets:",
    "1  a target failed (a move, S3, or aws exited 1)",
    "2  a target was skipped (missing or empty directory) or its deletes refused: nothing",
    "   changed for it; also: the config or the command line is wrong, or aws is missing",
    "   (then no target was run)",
    "3  something needs you (moves wait for archive restores, aws skipped files: its exit 2)",
    "0  all done",
    ...INTERRUPT_EXIT_CODES,
  ],
  parse: parseBatch,
  run: runBatch,
};
