/**
 * `sync`, `moves` and `status`: one command shape around {@linkcode runTarget} — the
 * options each takes, the wiring of the S3 store, log and reporter, and the report.
 *
 * @module
 */
import { archiveLogPath } from "../state/archive_log.ts";
import { errorMessage, ExitCode, UsageError } from "../errors.ts";
import type { ExecutionReporter } from "../execute/executor.ts";
import { withoutSlash } from "../fs.ts";
import { formatBytes, formatCount, formatDuration } from "../report/format.ts";
import { type Output, redactUrl, RunLog } from "../report/log.ts";
import { ProgressLine, RunTally } from "../report/progress.ts";
import {
  attentionLines,
  exitCodeOf,
  type JsonSummary,
  jsonSummary,
  summaryLines,
  totalLine,
} from "../report/summary.ts";
import { runTarget, type TargetReport } from "../run_target.ts";
import { type ConnectionOptions, effectiveEndpoint } from "../s3/aws_store.ts";
import { formatS3Url, parseS3Url, type S3Location } from "../s3/location.ts";
import {
  type CliDeps,
  type CommandResult,
  type CommandSpec,
  defaultCliDeps,
  TARGET_EXIT_CODES,
} from "./command.ts";
import { listenForInterrupt } from "./interrupt.ts";
import {
  CONNECTION_OPTIONS,
  COPY_OPTIONS,
  DELETE_OPTIONS,
  flagOption,
  LISTING_OPTIONS,
  listOption,
  type OptionName,
  OUTPUT_OPTIONS,
  parseConnection,
  parseCount,
  type ParsedArgs,
  parseDuration,
  parseLogOptions,
  parseStorageClass,
  STATE_OPTIONS,
  stateDirOption,
  stringOption,
  UPLOAD_OPTIONS,
} from "./options.ts";

/** The commands built on {@linkcode runTarget}. */
export type TargetCommand = "sync" | "moves" | "status";

/** Options of a target command, parsed from argv. */
export interface TargetCommandOptions {
  command: TargetCommand;
  localDir: string;
  location: S3Location;
  dryRun: boolean;
  deleteRemote: boolean;
  excludes: string[];
  storageClass?: string;
  concurrency: number;
  connection: ConnectionOptions;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  logDir: string;
  logRetentionDays: number;
  maxDelete?: number;
  forceDelete: boolean;
  verifyMoves: boolean;
  moveConcurrency: number;
  listConcurrency: number;
  trustState: boolean;
  maxStateAgeMs?: number;
  stateDir?: string;
}

/**
 * Turns the parsed arguments of `sync`, `moves` or `status` into their options.
 *
 * @throws {UsageError} on a missing or extra argument or a bad option value.
 */
export function parseTargetCommand(command: TargetCommand, args: ParsedArgs): TargetCommandOptions {
  const { values, positionals } = args;
  if (positionals.length !== 2) {
    throw new UsageError(
      `"${command}" takes two arguments, <local_dir> and <s3://bucket[/prefix]>, but got ${positionals.length}. Run "s3-smart-sync ${command} --help".`,
    );
  }
  const [localDir, url] = positionals as [string, string];
  return {
    command,
    localDir: withoutSlash(localDir),
    location: parseS3Url(url),
    dryRun: flagOption(values, "dry-run"),
    deleteRemote: flagOption(values, "delete"),
    excludes: listOption(values, "exclude"),
    storageClass: parseStorageClass(stringOption(values, "storage-class")),
    concurrency: parseCount(stringOption(values, "concurrency"), {
      name: "concurrency",
      min: 1,
      max: 256,
    }) ?? 10,
    connection: parseConnection(values),
    json: flagOption(values, "json"),
    quiet: flagOption(values, "quiet"),
    verbose: flagOption(values, "verbose"),
    ...parseLogOptions(values),
    maxDelete: parseCount(stringOption(values, "max-delete"), {
      name: "max-delete",
      min: 0,
      max: 1e12,
    }),
    forceDelete: flagOption(values, "force-delete"),
    verifyMoves: flagOption(values, "verify-moves"),
    moveConcurrency: parseCount(stringOption(values, "move-concurrency"), {
      name: "move-concurrency",
      min: 1,
      max: 1024,
    }) ?? 64,
    listConcurrency: parseCount(stringOption(values, "list-concurrency"), {
      name: "list-concurrency",
      min: 1,
      max: 256,
    }) ?? 16,
    trustState: flagOption(values, "trust-state"),
    maxStateAgeMs: parseDuration(stringOption(values, "max-state-age"), { name: "max-state-age" }),
    stateDir: stateDirOption(values),
  };
}

/**
 * The log's side of the reporter: each action a line (printed with --verbose; every one
 * in a dry run, and each delete always, as `aws s3 sync` prints `delete:` lines, for the
 * cron mail), each stage a line with its duration and counts (log only).
 */
function reporterFor(
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
function doneSoFar(tally: RunTally): string {
  const { done } = tally.tally;
  return `moved ${formatCount(done.moves)}, uploaded ${formatCount(done.uploads)} (${
    formatBytes(done.bytes)
  }), deleted ${formatCount(done.deletes)}, ${formatCount(done.failed)} failed`;
}

/**
 * Runs `sync`, `moves` or `status` with parsed options: opens the log, connects,
 * runs the pipeline and prints the summary. SIGINT and SIGTERM stop the run cleanly.
 */
export async function runTargetCommand(
  options: TargetCommandOptions,
  deps: CliDeps = defaultCliDeps,
): Promise<CommandResult> {
  const started = performance.now();
  const output = RunLog.open(
    { dir: options.logDir, command: options.command, retentionDays: options.logRetentionDays },
    { json: options.json, quiet: options.quiet, verbose: options.verbose },
  );
  const interrupt = listenForInterrupt((signal) =>
    output.warn(
      `${signal} received: stopping once what is under way is done and recorded (send it again to stop at once).`,
    )
  );
  let tally: RunTally | undefined;
  let progress: ProgressLine | undefined;
  try {
    const endpoint = effectiveEndpoint(options.connection) ?? "";
    const target = formatS3Url(options.location);
    const dryRun = options.command === "status" || options.dryRun;
    output.log(
      `s3-smart-sync ${options.command} ${options.localDir} ${target}${
        endpoint ? ` (endpoint ${redactUrl(endpoint)})` : ""
      }${options.stateDir ? ` (state in ${options.stateDir})` : ""}${dryRun ? " [dry run]" : ""}`,
    );
    const store = await deps.openStore(options.connection, options.location.bucket);
    tally = new RunTally(reporterFor(output, { dryRun, location: options.location }));
    if (!options.quiet && !options.json && Deno.stderr.isTerminal()) {
      const line = ProgressLine.start(tally);
      output.beforeConsole = () => line.clear();
      progress = line;
    }
    const report = await runTarget({
      localDir: options.localDir,
      location: options.location,
      endpoint,
      mode: options.command,
      dryRun: options.dryRun,
      deleteRemote: options.deleteRemote,
      excludes: options.excludes,
      concurrency: options.concurrency,
      storageClass: options.storageClass,
      maxDelete: options.maxDelete,
      forceDelete: options.forceDelete,
      archiveLog: archiveLogPath(options.logDir),
      verifyMoves: options.verifyMoves,
      moveConcurrency: options.moveConcurrency,
      listConcurrency: options.listConcurrency,
      trustState: options.trustState,
      maxStateAgeMs: options.maxStateAgeMs,
      stateDir: options.stateDir,
    }, { store, reporter: tally, registry: deps.registry, signal: interrupt.signal })
      .finally(() => progress?.stop());
    reportFindings(output, report);
    const summary: JsonSummary = jsonSummary(report, {
      command: options.command,
      local: options.localDir,
      target,
      requests: store.requestCounts(),
      durationMs: performance.now() - started,
    });
    for (const line of summaryLines(summary)) output.info(line);
    for (const line of attentionLines(summary)) output.warn(line);
    if (report.interrupted) {
      const exitCode = interrupt.exitCode ?? ExitCode.interrupted;
      output.warn(
        `Interrupted by ${interrupt.received ?? "a signal"}: ${
          doneSoFar(tally)
        } so far, all recorded. Run again to continue.`,
      );
      return { exitCode, json: { ...summary, interrupted: true, exitCode } };
    }
    // A cron mail of a --quiet run that needs attention still says what was done.
    if (options.quiet && !options.json && summary.exitCode !== 0) {
      console.error(totalLine(summary));
    }
    if (output.logPath) output.detail(`log: ${output.logPath}`);
    return { exitCode: exitCodeOf(report), json: summary };
  } catch (error) {
    progress?.stop();
    if (tally?.tally.phase === "execute") {
      output.warn(
        `Stopped before the end: ${doneSoFar(tally)}, all recorded. Run again to continue.`,
      );
    }
    output.log(`failed: ${errorMessage(error)}`);
    throw error;
  } finally {
    interrupt.dispose();
    output.close();
  }
}

/** What the run found that the user should know: warnings and, with -v, details. */
function reportFindings(output: Output, report: TargetReport): void {
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
  for (const entry of report.scanSkipped) {
    if (
      entry.kind === "unreadable" || entry.kind === "invalid name" || entry.kind === "vanished"
    ) {
      output.warn(`Skipped "${entry.path}": ${entry.reason}`);
    } else output.detail(`skipped ${entry.path}: ${entry.reason}`);
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

const TARGET_SYNOPSIS = "<local_dir> <s3://bucket[/prefix]>";

function targetSpec(
  name: TargetCommand,
  spec: Omit<CommandSpec<TargetCommandOptions>, "name" | "synopsis" | "parse" | "run">,
): CommandSpec<TargetCommandOptions> {
  return {
    name,
    synopsis: TARGET_SYNOPSIS,
    ...spec,
    parse: (args) => parseTargetCommand(name, args),
    run: runTargetCommand,
  };
}

const SELECT: readonly OptionName[] = ["dry-run", "exclude"];

/** `sync`: moves, uploads, and with `--delete`, deletes. */
export const syncCommand: CommandSpec<TargetCommandOptions> = targetSpec("sync", {
  summary: "moves + uploads (+ deletes with --delete)",
  description:
    `Mirror local_dir in S3. Renamed files and folders are moved server-side (copy + delete
inside S3, 0 bytes uploaded); new files and files whose size or mtime changed are uploaded
(large files in parts); objects already in S3 with the same size (e.g. from aws s3 sync) are
adopted, not uploaded again. Credentials come from the AWS SDK's default chain: environment
variables, ~/.aws profiles, SSO, instance roles.`,
  options: [
    ...SELECT,
    ...DELETE_OPTIONS,
    "verify-moves",
    ...UPLOAD_OPTIONS,
    ...COPY_OPTIONS,
    ...LISTING_OPTIONS,
    ...STATE_OPTIONS,
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTIONS,
  ],
  examples: [
    "s3-smart-sync sync /volume1/photos s3://my-backup/photos",
    "s3-smart-sync sync /volume1/photos s3://my-backup/photos --delete --storage-class DEEP_ARCHIVE --quiet",
    "s3-smart-sync sync ~/docs s3://backup/docs --endpoint-url https://s3.example.com --exclude '*.tmp'",
  ],
  exitCodes: TARGET_EXIT_CODES,
});

/** `moves`: server-side moves only. */
export const movesCommand: CommandSpec<TargetCommandOptions> = targetSpec("moves", {
  summary: "server-side moves only; no uploads, no deletes",
  description:
    `Move the objects of renamed files and folders server-side, and nothing else: no uploads, no
deletes. The current local state is recorded, so that when another tool (aws s3 sync, as
"batch" runs it) uploads in between, the next "moves" still recognises renames of those files.
Run it before "aws s3 sync --delete" so that renamed folders are not uploaded again.`,
  options: [
    ...SELECT,
    "verify-moves",
    ...COPY_OPTIONS,
    ...LISTING_OPTIONS,
    ...STATE_OPTIONS,
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTIONS,
  ],
  examples: [
    "s3-smart-sync moves /volume1/photos s3://my-backup/photos && aws s3 sync /volume1/photos s3://my-backup/photos --delete",
  ],
  exitCodes: TARGET_EXIT_CODES,
});

/** `status`: what sync would do. */
export const statusCommand: CommandSpec<TargetCommandOptions> = targetSpec("status", {
  summary: "what sync would do; changes nothing",
  description:
    `Print every action "sync" would take (moves, uploads, and with --delete, deletes), each with
its reason, and the totals. Changes nothing: no S3 writes, and the state DB is opened
read-only (it is not created if missing). Pass the same --delete and --exclude as your sync.`,
  options: [
    "exclude",
    ...DELETE_OPTIONS,
    ...LISTING_OPTIONS,
    ...STATE_OPTIONS,
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTIONS,
  ],
  examples: ["s3-smart-sync status /volume1/photos s3://my-backup/photos --delete"],
  exitCodes: [
    "0  nothing needs you",
    "1  S3 could not be reached",
    "2  usage or configuration error, or sync --delete would be refused",
    "3  moves would wait for archive restores, or files cannot be read",
  ],
});
