/**
 * `sync`, `moves` and `status`: one command shape around {@linkcode runTarget} — the
 * options each takes, the wiring of the S3 store, log and reporter, and the report.
 *
 * @module
 */
import { archiveLogPath } from "../state/archive_log.ts";
import { errorMessage, ExitCode, UsageError } from "../errors.ts";
import { withoutSlash } from "../fs.ts";
import { redactUrl, RunLog } from "../report/log.ts";
import { ProgressLine, RunTally } from "../report/progress.ts";
import {
  attentionLines,
  exitCodeOf,
  type JsonSummary,
  jsonSummary,
  summaryLines,
  totalLine,
} from "../report/summary.ts";
import { runTarget } from "../run_target.ts";
import { effectiveEndpoint } from "../s3/client.ts";
import { formatS3Url, parseS3Url, type S3Location } from "../s3/location.ts";
import {
  type CliDeps,
  type CommandResult,
  type CommandSpec,
  defaultCliDeps,
  TARGET_EXIT_CODES,
} from "./command.ts";
import { listenForInterrupt } from "./interrupt.ts";
import { doneSoFar, reporterFor, reportFindings } from "./target_output.ts";
import {
  CONNECTION_OPTIONS,
  COPY_OPTIONS,
  DELETE_OPTIONS,
  flagOption,
  LISTING_OPTIONS,
  listOption,
  type OptionName,
  OUTPUT_OPTIONS,
  parseCount,
  type ParsedArgs,
  parseDuration,
  parseRunOptions,
  type RunSettings,
  STATE_OPTIONS,
  stateDirOption,
  stringOption,
  UPLOAD_OPTIONS,
} from "./options.ts";

/** The commands built on {@linkcode runTarget}. */
export type TargetCommand = "sync" | "moves" | "status";

/** Options of a target command, parsed from argv. */
export interface TargetCommandOptions extends RunSettings {
  command: TargetCommand;
  localDir: string;
  location: S3Location;
  deleteRemote: boolean;
  excludes: string[];
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
    ...parseRunOptions(values),
    deleteRemote: flagOption(values, "delete"),
    excludes: listOption(values, "exclude"),
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

const TARGET_SYNOPSIS = "<local_dir> <s3://bucket[/prefix]>";

/** The options every target command ends its list with. */
const TARGET_COMMON = [
  ...LISTING_OPTIONS,
  ...STATE_OPTIONS,
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
] as const;

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
    ...TARGET_COMMON,
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
    ...TARGET_COMMON,
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
    ...TARGET_COMMON,
  ],
  examples: ["s3-smart-sync status /volume1/photos s3://my-backup/photos --delete"],
  exitCodes: [
    "0  nothing needs you",
    "1  S3 could not be reached",
    "2  usage or configuration error, or sync --delete would be refused",
    "3  moves would wait for archive restores, or files cannot be read",
    "130  interrupted by Ctrl-C (SIGINT), 143 stopped by SIGTERM (status changes nothing)",
  ],
});
