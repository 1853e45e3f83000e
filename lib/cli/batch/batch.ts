/**
 * `batch [--config FILE]`: for each target of the config file, server-side moves, then
 * `aws s3 sync --delete` (or the built-in sync with `--engine native`), and a table.
 *
 * @module
 */
import { AWS_MISSING, systemAws } from "./aws_cli.ts";
import { defaultConfigPath, readConfig } from "./config.ts";
import { ExitCode, UsageError } from "../../errors.ts";
import { formatCount, formatDuration } from "../../report/format.ts";
import { defaultLogDir, redactUrl, RunLog } from "../../report/log.ts";
import { effectiveEndpoint } from "../../s3/aws_store.ts";
import { table, targetJson, type TargetResult, worst } from "./report.ts";
import { type BatchDeps, type BatchRunOptions, runBatchTarget } from "./target.ts";
import { type CommandResult, defaultDeps } from "../target.ts";
import {
  BASE_OPTIONS,
  parseCommandArgs,
  parseConnection,
  parseCount,
  parseStorageClass,
} from "../options.ts";

export type { BatchDeps } from "./target.ts";

/** Help text of `batch`. */
export const BATCH_HELP = `Usage: s3-smart-sync batch [--config FILE] [options]

For each target line of the config file (default ~/.s3-smart-sync.conf; "s3-smart-sync init"
writes a commented sample), in order:
  1. move the objects of renamed files and folders server-side, as "s3-smart-sync moves",
     and judge the deletes step 2 would make with the same guard as "sync --delete";
  2. run "aws s3 sync <local_path> s3://bucket/prefix --delete" with the target's excludes
     and the state DB excluded.
A target whose moves wait for archive restores is synced by the built-in "sync --delete"
instead (aws would upload their new paths and delete the archived objects). A target whose
directory is missing or empty (an unmounted volume) is skipped; a failing target does not
stop the others. At the end a table shows each target.

  --config FILE             the config file (default ~/.s3-smart-sync.conf)
  --engine aws|native       aws (default): the AWS CLI's "aws s3 sync", which must be on PATH;
                            native: the built-in "sync --delete" instead, nothing else needed
  --dry-run                 moves run dry and aws gets --dryrun: nothing is changed
  --max-delete N            allow up to N deletes per target (instead of the 50% guard)
  --force-delete            allow any number of deletes, also from an empty directory
  --storage-class CLASS     storage class of uploads (passed to aws)
  --endpoint-url URL        S3-compatible server (passed to aws; also AWS_ENDPOINT_URL_S3)
  --profile NAME, --region REGION
                            passed to aws as well
  --concurrency N           S3 requests in flight at most during moves (default 10)
  --json                    one JSON object: a "targets" array and the totals
  -q, --quiet               print only warnings, errors and what needs you
  -v, --verbose             print every action, and aws's output
  --log-dir DIR             folder for run logs (default ~/.s3-smart-sync/logs); aws's output
                            goes to the run log too
  -h, --help                this help

The delete guard refuses a target's deletes (and then changes nothing for it) when its
directory has no files, or when more than half of the objects under its prefix (and more
than ten) would go, unless --max-delete or --force-delete allows them.

Exit codes, the worst of the targets: 1 a target failed (a move, S3, or aws exited 1);
2 a target was skipped (missing or empty directory) or its deletes refused: nothing changed
for it; 3 something needs you (moves wait for archive restores, aws skipped files: its exit
2); 0 all done. Exit 2 also when the config or the command line is wrong, or aws is missing
(then no target was run).`;

const OPTIONS = {
  config: { type: "string" },
  engine: { type: "string" },
  "dry-run": { type: "boolean" },
  "max-delete": { type: "string" },
  "force-delete": { type: "boolean" },
  "storage-class": { type: "string" },
  concurrency: { type: "string" },
  ...BASE_OPTIONS,
} as const;

/** Options of `batch`, parsed. */
export interface BatchOptions extends BatchRunOptions {
  configPath: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * Parses `batch`'s argv (the config file is read by {@linkcode runBatch}); "help" for --help.
 *
 * @throws {UsageError} on an argument, an unknown option or a bad option value.
 */
export function parseBatch(argv: string[]): BatchOptions | "help" {
  const { values, positionals } = parseCommandArgs("batch", { argv, options: OPTIONS });
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new UsageError(
      `"batch" takes no arguments, but got "${
        positionals[0]
      }": its targets come from the config file (--config FILE).`,
    );
  }
  const engine = values.engine ?? "aws";
  if (engine !== "aws" && engine !== "native") {
    throw new UsageError(`--engine takes aws or native, not "${engine}".`);
  }
  return {
    configPath: values.config ?? defaultConfigPath(),
    engine,
    dryRun: values["dry-run"] ?? false,
    storageClass: parseStorageClass(values["storage-class"]),
    concurrency: parseCount(values.concurrency, { name: "concurrency", min: 1, max: 256 }) ?? 10,
    connection: parseConnection(values),
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    verbose: values.verbose ?? false,
    logDir: values["log-dir"] ?? defaultLogDir(),
    maxDelete: parseCount(values["max-delete"], { name: "max-delete", min: 0, max: 1e12 }),
    forceDelete: values["force-delete"] ?? false,
  };
}

/** Default dependencies: a real S3 client, the registry, and the `aws` on PATH. */
export const defaultBatchDeps: BatchDeps = { ...defaultDeps, aws: systemAws };

/**
 * Runs `batch` with parsed options: reads the config (exit 2 before anything is
 * touched when it is wrong or `aws` is missing), runs each target, prints the table.
 *
 * @throws {UsageError} on a bad config file or a missing `aws` with `--engine aws`.
 */
export async function runBatch(
  options: BatchOptions,
  deps: BatchDeps = defaultBatchDeps,
): Promise<CommandResult> {
  const started = performance.now();
  const targets = readConfig(options.configPath);
  const native = options.engine === "native";
  if (!native && deps.aws.locate() === undefined) {
    throw new UsageError(`${AWS_MISSING} Nothing was changed.`);
  }
  const output = RunLog.open({ dir: options.logDir, command: "batch" }, options);
  try {
    const endpoint = effectiveEndpoint(options.connection);
    output.log(
      `s3-smart-sync batch ${options.configPath}: ${targets.length} target(s), engine ${options.engine}${
        endpoint ? `, endpoint ${redactUrl(endpoint)}` : ""
      }${options.dryRun ? " [dry run]" : ""}`,
    );
    const results: TargetResult[] = [];
    for (const target of targets) {
      results.push(await runBatchTarget(target, { options, deps, output }));
    }
    const exitCode = worst(results.map((result) => result.exitCode));
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
    output.close();
  }
}

/**
 * Runs `batch` from argv.
 *
 * @example
 * ```ts
 * const result = await batch(["--config", "/volume1/homes/admin/s3-smart-sync.conf"]);
 * ```
 */
export async function batch(
  argv: string[],
  deps: BatchDeps = defaultBatchDeps,
): Promise<CommandResult> {
  const options = parseBatch(argv);
  if (options === "help") {
    console.log(BATCH_HELP);
    return { exitCode: 0 };
  }
  return await runBatch(options, deps);
}
