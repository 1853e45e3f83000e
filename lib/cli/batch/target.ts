/**
 * One target of `batch`: check its directory, move renamed files server-side (judging
 * the deletes that `aws s3 sync --delete` would make with the delete guard), then run
 * `aws s3 sync` — or the built-in sync, for `--engine native` and for a target whose
 * moves wait for archive restores.
 *
 * @module
 */
import { archiveLogPath } from "../../state/archive_log.ts";
import { awsSyncArgs, formatCommandLine, runAwsSync } from "./aws_cli.ts";
import type { BatchTarget } from "./config.ts";
import { DeleteRefusedError, errorMessage, ExitCode } from "../../errors.ts";
import type { ExecutionReporter } from "../../execute/executor.ts";
import { exists } from "../../fs.ts";
import { unseenEntries } from "../../plan/delete_guard.ts";
import { localDirProblem } from "../../scan/local_dir.ts";
import { type Output, redactUrl } from "../../report/log.ts";
import { exitCodeOf, type JsonSummary, jsonSummary, summaryLines } from "../../report/summary.ts";
import { runTarget, type TargetReport, type TargetRunOptions } from "../../run_target.ts";
import { type ConnectionOptions, effectiveEndpoint } from "../../s3/client.ts";
import { statePathOf, StateStore } from "../../state/store.ts";
import { formatS3Url, type S3Location } from "../../s3/location.ts";
import { reporterFor, reportFindings } from "../target_output.ts";
import { type AwsResult, type TargetResult, worst } from "./report.ts";
import type { CliDeps } from "../command.ts";

/** The options of a `batch` run that each target uses. */
export interface BatchRunOptions {
  engine: "aws" | "native";
  dryRun: boolean;
  storageClass?: string;
  concurrency: number;
  connection: ConnectionOptions;
  logDir: string;
  maxDelete?: number;
  forceDelete: boolean;
}

/**
 * The target command's reporter (stage lines in the log, fallbacks and failures), with
 * every action a detail line: batch's console shows the table, not a line per delete.
 */
function batchReporter(output: Output, dryRun: boolean, location: S3Location): ExecutionReporter {
  const would = dryRun ? "would " : "";
  return {
    ...reporterFor(output, { dryRun, location }),
    moved: (step) => output.detail(`${would}move ${step.originalFrom ?? step.from} → ${step.to}`),
    uploaded: (action) => output.detail(`${would}upload ${action.key} (${action.reason})`),
    deleted: (action) => output.detail(`${would}delete ${action.key} (${action.reason})`),
  };
}

/** How many moves of the target waited for a restore after its last run (from its DB). */
function recordedDeferred(target: BatchTarget, endpoint: string): number {
  const path = statePathOf(target.localPath);
  if (!exists(path)) return 0;
  try {
    const state = StateStore.openFile(path, { readOnly: true });
    try {
      return state.deferredMoves(state.target({ endpoint, ...target.location })).length;
    } finally {
      state.close();
    }
  } catch {
    return 0; // The run itself reports what is wrong with the DB.
  }
}

async function awsStep(
  target: BatchTarget,
  context: {
    options: BatchRunOptions;
    deps: CliDeps;
    output: Output;
    holdDeletes: boolean;
    signal?: AbortSignal;
  },
): Promise<AwsResult> {
  const { options, output } = context;
  const endpoint = effectiveEndpoint(options.connection);
  try {
    const args = awsSyncArgs(target.localPath, target.location, {
      excludes: target.excludes,
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
      signal: context.signal,
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

/** Adds the counts of a second run of the same target to the summary of the first. */
function addRun(first: JsonSummary, second: JsonSummary): JsonSummary {
  const requests = { ...first.requests };
  for (const [name, count] of Object.entries(second.requests)) {
    requests[name] = (requests[name] ?? 0) + count;
  }
  return {
    ...second,
    moves: first.moves + second.moves,
    folderRenames: [...first.folderRenames, ...second.folderRenames],
    fileRenames: [...first.fileRenames, ...second.fileRenames].slice(0, 100),
    bytesMovedServerSide: first.bytesMovedServerSide + second.bytesMovedServerSide,
    errors: first.errors + second.errors,
    failures: [...first.failures, ...second.failures],
    stateWrites: first.stateWrites + second.stateWrites,
    durationMs: first.durationMs + second.durationMs,
    requests,
  };
}

/**
 * Runs one target of `batch`; never throws: a failure is reported in the result, so
 * that the other targets still run.
 */
export async function runBatchTarget(
  target: BatchTarget,
  context: { options: BatchRunOptions; deps: CliDeps; output: Output; signal?: AbortSignal },
): Promise<TargetResult> {
  const { options, deps, output } = context;
  const started = performance.now();
  const url = formatS3Url(target.location);
  const elapsed = () => performance.now() - started;
  output.info(`${target.localPath} → ${url}${options.dryRun ? " [dry run]" : ""}`);
  // A missing or empty directory (an unmounted volume) skips this target only; nothing
  // is created in it.
  const problem = localDirProblem(target.localPath);
  if (problem) {
    output.error(`${problem.message} Skipped ${target.localPath} → ${url}: nothing was changed.`);
    return {
      target,
      engine: options.engine,
      notRun: problem.kind === "empty" ? "local directory empty" : `local path ${problem.kind}`,
      exitCode: ExitCode.usage,
      durationMs: elapsed(),
    };
  }
  const endpoint = effectiveEndpoint(options.connection) ?? "";
  // aws cannot be told to leave deferred moves alone except by one literal --exclude per
  // path, which makes it crawl (2,000 excludes: 2 minutes instead of 2 seconds): such a
  // target is synced by the built-in engine, which keeps them by design.
  let engine = options.engine === "native" || recordedDeferred(target, endpoint) > 0
    ? "native" as const
    : options.engine;
  try {
    const store = await deps.openStore(options.connection, target.location.bucket);
    const runOptions: TargetRunOptions = {
      localDir: target.localPath,
      location: target.location,
      endpoint,
      mode: "sync",
      deleteRemote: true,
      dryRun: options.dryRun,
      excludes: target.excludes,
      concurrency: options.concurrency,
      storageClass: options.storageClass,
      archiveLog: archiveLogPath(options.logDir),
      maxDelete: options.maxDelete,
      forceDelete: options.forceDelete,
    };
    const runDeps = {
      store,
      reporter: batchReporter(output, options.dryRun, target.location),
      registry: deps.registry,
      signal: context.signal,
    };
    const describe = (report: TargetReport, command: string) => {
      reportFindings(output, report);
      const summary = jsonSummary(report, {
        command,
        local: target.localPath,
        target: url,
        requests: store.requestCounts(),
        durationMs: elapsed(),
      });
      for (const line of summaryLines(summary)) output.detail(`  ${line}`);
      return summary;
    };
    let report = await runTarget(
      engine === "native" ? runOptions : {
        ...runOptions,
        mode: "moves",
        deleteRemote: false,
        // The deletes aws will make pass the same guard as sync --delete, before aws runs.
        checkDeletes: true,
      },
      runDeps,
    );
    let summary = describe(report, engine === "native" ? "sync" : "moves");
    const codes: number[] = [exitCodeOf(report)];
    let aws: AwsResult | undefined;
    if (report.interrupted) {
      // Stopped: neither the built-in sync nor aws runs after an interrupted first step.
    } else if (engine === "aws" && report.deferred.length > 0) {
      output.info(
        `${report.deferred.length} move(s) of ${target.localPath} wait for archive restores: its uploads and deletes are made by the built-in sync instead of aws, which would upload their new paths and delete the archived objects.`,
      );
      engine = "native";
      const before = summary;
      report = await runTarget(runOptions, runDeps);
      summary = addRun(before, describe(report, "sync"));
      codes.push(exitCodeOf(report));
    } else if (engine === "aws") {
      // aws skips what it cannot read and deletes its objects, also those of files moved
      // into an unreadable folder: hold its deletes, as the built-in sync does (and, as
      // it does, not with --force-delete).
      const unseen = unseenEntries(report.scanSkipped);
      const hold = unseen.length > 0 && !options.forceDelete;
      if (hold) {
        output.warn(
          `${
            unseen.length === 1 ? "1 entry" : `${unseen.length} entries`
          } of ${target.localPath} could not be read or named (first: "${unseen[0]!.path}": ${
            unseen[0]!.reason
          }); aws s3 sync runs without --delete until they are fixed (or with --force-delete).`,
        );
      }
      aws = await awsStep(target, { ...context, holdDeletes: hold });
      codes.push(aws.exitCode === 0 ? 0 : aws.exitCode === 2 ? 3 : 1);
    }
    return { target, engine, summary, aws, exitCode: worst(codes), durationMs: elapsed() };
  } catch (error) {
    const refused = error instanceof DeleteRefusedError;
    output.error(`${target.localPath} → ${url}: ${errorMessage(error)}`);
    return {
      target,
      engine,
      ...(refused ? { refused: errorMessage(error) } : { error: errorMessage(error) }),
      exitCode: refused ? ExitCode.usage : ExitCode.failure,
      durationMs: elapsed(),
    };
  }
}
