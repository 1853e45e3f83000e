/**
 * `batch [--config FILE]`: for each target of the config file, server-side moves, then
 * `aws s3 sync --delete` (or the built-in sync with `--engine native`), and a table.
 *
 * @module
 */
import { archiveLogPath } from "../archive.ts";
import {
  AWS_MISSING,
  type AwsRunner,
  awsSyncArgs,
  formatCommandLine,
  runAwsSync,
  systemAws,
} from "../aws_cli.ts";
import { type BatchTarget, defaultConfigPath, readConfig } from "../config.ts";
import { errorMessage, ExitCode, UsageError } from "../errors.ts";
import type { ExecutionReporter } from "../execute.ts";
import { formatCount, formatDuration } from "../format.ts";
import { defaultLogDir, type Output, redactUrl, RunLog } from "../log.ts";
import { exitCodeOf, jsonSummary, summaryLines } from "../report.ts";
import { runTarget } from "../run_target.ts";
import { type ConnectionOptions, effectiveEndpoint } from "../s3_store.ts";
import { formatS3Url } from "../target.ts";
import { type AwsResult, table, targetJson, type TargetResult, worst } from "./batch_report.ts";
import { type CommandResult, defaultDeps, type TargetCommandDeps } from "./target_command.ts";
import {
  BASE_OPTIONS,
  parseCommandArgs,
  parseConnection,
  parseCount,
  parseStorageClass,
} from "./options.ts";

/** Help text of `batch`. */
export const BATCH_HELP = `Usage: s3-smart-sync batch [--config FILE] [options]

For each target line of the config file (default ~/.s3-smart-sync.conf; "s3-smart-sync init"
writes a commented sample), in order:
  1. move the objects of renamed files and folders server-side, as "s3-smart-sync moves";
  2. run "aws s3 sync <local_path> s3://bucket/prefix --delete" with the target's excludes,
     the state DB and the paths of moves waiting for an archive restore excluded (so aws
     neither uploads their new path nor deletes their old key).
A failing target does not stop the others. At the end a table shows each target.

  --config FILE             the config file (default ~/.s3-smart-sync.conf)
  --engine aws|native       aws (default): the AWS CLI's "aws s3 sync", which must be on PATH;
                            native: the built-in "sync --delete" instead, nothing else needed
  --dry-run                 moves run dry and aws gets --dryrun: nothing is changed
  --storage-class CLASS     storage class of uploads (passed to aws)
  --endpoint-url URL        S3-compatible server (passed to aws; also AWS_ENDPOINT_URL_S3)
  --profile NAME, --region REGION
                            passed to aws as well
  --concurrency N           S3 requests in flight at most during moves (default 10)
  --json                    one JSON object: a "targets" array and the totals
  -q, --quiet               print only warnings and errors
  -v, --verbose             print every action, and aws's output
  --log-dir DIR             folder for run logs (default ~/.s3-smart-sync/logs); aws's output
                            goes to the run log too
  -h, --help                this help

Exit codes: the worst of the targets: 1 a target failed (a move, S3, or aws exited 1);
3 something needs the user (moves wait for archive restores, aws skipped files: its exit 2);
0 all done. 2: the config or the command line is wrong, or aws is missing (nothing changed).`;

const OPTIONS = {
  config: { type: "string" },
  engine: { type: "string" },
  "dry-run": { type: "boolean" },
  "storage-class": { type: "string" },
  concurrency: { type: "string" },
  ...BASE_OPTIONS,
} as const;

/** Options of `batch`, parsed. */
export interface BatchOptions {
  configPath: string;
  engine: "aws" | "native";
  dryRun: boolean;
  storageClass?: string;
  concurrency: number;
  connection: ConnectionOptions;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  logDir: string;
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
  };
}

/** Side effects of `batch`: the S3 store and the `aws` program. */
export interface BatchDeps extends TargetCommandDeps {
  /** Locates and runs `aws`. */
  aws: AwsRunner;
}

/** Default dependencies: a real S3 client and the `aws` on PATH. */
export const defaultBatchDeps: BatchDeps = { ...defaultDeps, aws: systemAws };

function reporterFor(output: Output, dryRun: boolean): ExecutionReporter {
  const would = dryRun ? "would " : "";
  return {
    moved: (step) => output.detail(`${would}move ${step.originalFrom ?? step.from} → ${step.to}`),
    uploaded: (action) => output.detail(`${would}upload ${action.key} (${action.reason})`),
    deleted: (action) => output.detail(`${would}delete ${action.key} (${action.reason})`),
    failed: (failure) => output.error(failure.message),
  };
}

async function awsStep(
  target: BatchTarget,
  context: {
    options: BatchOptions;
    deps: BatchDeps;
    output: Output;
    deferred: ReadonlyArray<{ from: string; to: string }>;
    holdDeletes: boolean;
  },
): Promise<AwsResult> {
  const { options, output } = context;
  const endpoint = effectiveEndpoint(options.connection);
  try {
    const args = awsSyncArgs(target.localPath, target.location, {
      excludes: target.excludes,
      deferred: context.deferred,
      endpoint,
      profile: options.connection.profile,
      region: options.connection.region ?? Deno.env.get("AWS_REGION"),
      storageClass: options.storageClass,
      dryRun: options.dryRun,
      deleteRemote: !context.holdDeletes,
    });
    const shown = args.map((arg) => arg === endpoint ? redactUrl(arg) : arg);
    output.log(`running: aws ${formatCommandLine(shown)}`);
    const outcome = await runAwsSync(args, {
      runner: context.deps.aws,
      onLine: (line) => output.detail(`aws: ${line}`),
    });
    const { exitCode, uploads, deletes } = outcome;
    const detail = outcome.errorLines.join("\n");
    if (exitCode === 2) {
      output.warn(`aws s3 sync skipped files of ${target.localPath} (exit 2)\n${detail}`.trim());
      return { exitCode, uploads, deletes, note: "files skipped" };
    }
    if (exitCode !== 0) {
      output.error(`aws s3 sync failed for ${target.localPath} (exit ${exitCode})\n${detail}`);
      return { exitCode, uploads, deletes, note: `exit ${exitCode}` };
    }
    return { exitCode, uploads, deletes };
  } catch (error) {
    output.error(`aws s3 sync for ${target.localPath}: ${errorMessage(error)}`);
    return { uploads: 0, deletes: 0, note: `not run: ${errorMessage(error)}` };
  }
}

async function runOne(
  target: BatchTarget,
  context: { options: BatchOptions; deps: BatchDeps; output: Output },
): Promise<TargetResult> {
  const { options, deps, output } = context;
  const started = performance.now();
  const url = formatS3Url(target.location);
  const native = options.engine === "native";
  output.info(`${target.localPath} → ${url}${options.dryRun ? " [dry run]" : ""}`);
  try {
    const store = await deps.openStore(options.connection, target.location.bucket);
    const report = await runTarget({
      localDir: target.localPath,
      location: target.location,
      endpoint: effectiveEndpoint(options.connection) ?? "",
      mode: native ? "sync" : "moves",
      deleteRemote: native,
      dryRun: options.dryRun,
      excludes: target.excludes,
      concurrency: options.concurrency,
      storageClass: options.storageClass,
      archiveLog: archiveLogPath(options.logDir),
    }, { store, reporter: reporterFor(output, options.dryRun) });
    for (const move of report.deferred) {
      output.detail(`deferred ${move.from} → ${move.to}: ${move.reason}`);
    }
    for (const entry of [...report.scanSkipped, ...report.plan.skipped]) {
      output.detail(`skipped ${entry.path}: ${entry.reason}`);
    }
    const summary = jsonSummary(report, {
      command: native ? "sync" : "moves",
      local: target.localPath,
      target: url,
      requests: store.requestCounts(),
      durationMs: performance.now() - started,
    });
    for (const line of summaryLines(summary)) output.detail(`  ${line}`);
    const codes: number[] = [exitCodeOf(report)];
    let aws: AwsResult | undefined;
    if (!native && report.localFiles === 0 && report.remoteObjects > 0) {
      aws = { uploads: 0, deletes: 0, note: "not run: local directory empty" };
      output.error(
        `${target.localPath} has no files but ${report.remoteObjects} objects are under ${url}: is the volume mounted? aws s3 sync --delete was not run for it.`,
      );
      codes.push(ExitCode.failure);
    } else if (!native) {
      // aws skips what it cannot read and deletes its objects, also those of files moved
      // into an unreadable folder: hold its deletes, as the built-in sync does.
      const unseen = report.scanSkipped.filter((entry) =>
        entry.kind === "unreadable" || entry.kind === "invalid name" || entry.kind === "vanished"
      );
      if (unseen.length > 0) {
        output.warn(
          `${
            unseen.length === 1 ? "1 entry" : `${unseen.length} entries`
          } of ${target.localPath} could not be read or named (first: "${unseen[0]!.path}": ${
            unseen[0]!.reason
          }); aws s3 sync runs without --delete until they are fixed.`,
        );
      }
      aws = await awsStep(target, {
        ...context,
        deferred: report.deferred,
        holdDeletes: unseen.length > 0,
      });
      codes.push(aws.exitCode === 0 ? 0 : aws.exitCode === 2 ? 3 : 1);
    }
    return {
      target,
      summary,
      aws,
      exitCode: worst(codes),
      durationMs: performance.now() - started,
    };
  } catch (error) {
    output.error(`${target.localPath} → ${url}: ${errorMessage(error)}`);
    return {
      target,
      error: errorMessage(error),
      exitCode: ExitCode.failure,
      durationMs: performance.now() - started,
    };
  }
}

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
    for (const target of targets) results.push(await runOne(target, { options, deps, output }));
    const exitCode = worst(results.map((result) => result.exitCode));
    const perTarget = results.map((result) => targetJson(result, native));
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
    for (const line of table(results, native)) output.info(line);
    const last = `Batch${options.dryRun ? " (dry run)" : ""}: ${totals.targets} target(s)${
      totals.failed ? `, ${totals.failed} failed` : ""
    }; ${formatCount(totals.moves)} moved server-side, ${formatCount(totals.uploads)} uploaded, ${
      formatCount(totals.deletes)
    } deleted, ${formatCount(totals.deferred)} deferred in ${formatDuration(durationMs)}`;
    output.info(last);
    if (totals.deferred > 0) {
      output.info(
        'Moves wait for archived objects to be restored: run "s3-smart-sync restore"; the next batch completes them.',
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
