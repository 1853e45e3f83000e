/**
 * What `sync`, `moves` and `status` share: their options, the wiring of the S3
 * store, log and reporter around {@linkcode runTarget}, and the final report.
 *
 * @module
 */
import { archiveLogPath } from "../state/archive_log.ts";
import { errorMessage, type ExitCodeValue, UsageError } from "../errors.ts";
import type { ExecutionReporter } from "../execute/live.ts";
import { formatBytes } from "../report/format.ts";
import { defaultLogDir, type Output, redactUrl, RunLog } from "../report/log.ts";
import type { ObjectStore } from "../s3/store.ts";
import {
  attentionLines,
  exitCodeOf,
  type JsonSummary,
  jsonSummary,
  summaryLines,
  totalLine,
} from "../report/summary.ts";
import { withProgress } from "../report/progress.ts";
import { FileRegistry, type TargetRegistry } from "../state/registry.ts";
import { runTarget } from "../run_target.ts";
import {
  type ConnectionOptions,
  createS3Client,
  effectiveEndpoint,
  S3Store,
} from "../s3/aws_store.ts";
import { formatS3Url, parseS3Url, type S3Location } from "../s3/location.ts";

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
  maxDelete?: number;
  forceDelete: boolean;
  verifyMoves: boolean;
}

import {
  BASE_OPTIONS,
  parseCommandArgs,
  parseConnection,
  parseCount,
  parseStorageClass,
} from "./options.ts";
import { withoutSlash } from "../fs.ts";

/** Options every command understands. */
export const COMMON_OPTIONS = {
  "dry-run": { type: "boolean" },
  exclude: { type: "string", multiple: true },
  delete: { type: "boolean" },
  "storage-class": { type: "string" },
  concurrency: { type: "string" },
  "max-delete": { type: "string" },
  "force-delete": { type: "boolean" },
  "verify-moves": { type: "boolean" },
  sse: { type: "string" },
  "sse-kms-key-id": { type: "string" },
  "full-checksums": { type: "boolean" },
  "multipart-threshold": { type: "string" },
  "multipart-chunksize": { type: "string" },
  "copy-multipart-threshold": { type: "string" },
  "copy-part-size": { type: "string" },
  ...BASE_OPTIONS,
} as const;

/**
 * Parses the arguments of `sync`, `moves` or `status`. Returns "help" when
 * `--help` was given.
 *
 * @throws {UsageError} on a missing or extra argument or a bad option value.
 */
export function parseTargetCommand(
  command: TargetCommand,
  argv: string[],
): TargetCommandOptions | "help" {
  const { values, positionals } = parseCommandArgs(command, { argv, options: COMMON_OPTIONS });
  if (values.help) return "help";
  if (positionals.length !== 2) {
    throw new UsageError(
      `"${command}" takes two arguments, <local_dir> and <s3://bucket[/prefix]>, but got ${positionals.length}. Run "s3-smart-sync ${command} --help".`,
    );
  }
  // status --delete shows what sync --delete would do.
  if (command === "moves" && values.delete) {
    throw new UsageError(`"moves" never deletes; --delete belongs to "sync".`);
  }
  const [localDir, url] = positionals as [string, string];
  return {
    command,
    localDir: withoutSlash(localDir),
    location: parseS3Url(url),
    dryRun: values["dry-run"] ?? false,
    deleteRemote: values.delete ?? false,
    excludes: values.exclude ?? [],
    storageClass: parseStorageClass(values["storage-class"]),
    concurrency: parseCount(values.concurrency, { name: "concurrency", min: 1, max: 256 }) ?? 10,
    connection: parseConnection(values),
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    verbose: values.verbose ?? false,
    logDir: values["log-dir"] ?? defaultLogDir(),
    maxDelete: parseCount(values["max-delete"], { name: "max-delete", min: 0, max: 1e12 }),
    forceDelete: values["force-delete"] ?? false,
    verifyMoves: values["verify-moves"] ?? false,
  };
}

/** Side effects of a target command, swappable in tests. */
export interface TargetCommandDeps {
  /** Makes the object store for a bucket. */
  openStore(connection: ConnectionOptions, bucket: string): Promise<ObjectStore>;
  /** The registry of synced targets (`~/.s3-smart-sync/targets.json`). */
  registry: TargetRegistry;
}

/** Default dependencies: a real S3 client and the registry in the home folder. */
export const defaultDeps: TargetCommandDeps = {
  async openStore(connection, bucket) {
    return new S3Store(await createS3Client(connection), bucket, connection.transfer);
  },
  get registry() {
    return new FileRegistry();
  },
};

/** What a command hands back to `main.ts`. */
export interface CommandResult {
  /** The exit code. */
  exitCode: ExitCodeValue;
  /** Printed on stdout as JSON when `--json` was given. */
  json?: unknown;
}

function reporterFor(output: Output, listEachAction: boolean): ExecutionReporter {
  const line = listEachAction ? output.info.bind(output) : output.detail.bind(output);
  const verb = listEachAction
    ? ["would move", "would upload", "would delete"]
    : ["moved", "uploaded", "deleted"];
  return {
    moved: (step) =>
      line(
        `${verb[0]} ${step.originalFrom ?? step.from} → ${step.to} (${step.reason}${
          step.viaTemp ? ", via a temporary key" : ""
        })`,
      ),
    uploaded: (action) =>
      line(`${verb[1]} ${action.key} (${action.reason}, ${formatBytes(action.file.size)})`),
    deleted: (action) => line(`${verb[2]} ${action.key} (${action.reason})`),
    failed: (failure) => output.error(failure.message),
    verifyFailed: (step) =>
      output.warn(
        `"${step.to}" has the inode, size and mtime of "${step.from}" but other content (MD5 differs from its ETag): uploaded instead of moved`,
      ),
  };
}

/**
 * Runs `sync`, `moves` or `status` with parsed options: opens the log, connects,
 * runs the pipeline and prints the summary.
 */
export async function runTargetCommand(
  options: TargetCommandOptions,
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const started = performance.now();
  const output = RunLog.open(
    { dir: options.logDir, command: options.command },
    { json: options.json, quiet: options.quiet, verbose: options.verbose },
  );
  try {
    const endpoint = effectiveEndpoint(options.connection) ?? "";
    const target = formatS3Url(options.location);
    const dryRun = options.command === "status" || options.dryRun;
    output.log(
      `s3-smart-sync ${options.command} ${options.localDir} ${target}${
        endpoint ? ` (endpoint ${redactUrl(endpoint)})` : ""
      }${dryRun ? " [dry run]" : ""}`,
    );
    const store = await deps.openStore(options.connection, options.location.bucket);
    const reporter = withProgress(reporterFor(output, dryRun), {
      enabled: !dryRun && !options.quiet && !options.json && Deno.stderr.isTerminal(),
    });
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
    }, { store, reporter, registry: deps.registry }).finally(() => reporter.stop());
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
    const summary: JsonSummary = jsonSummary(report, {
      command: options.command,
      local: options.localDir,
      target,
      requests: store.requestCounts(),
      durationMs: performance.now() - started,
    });
    for (const line of summaryLines(summary)) output.info(line);
    for (const line of attentionLines(summary)) output.warn(line);
    // A cron mail of a --quiet run that needs attention still says what was done.
    if (options.quiet && !options.json && summary.exitCode !== 0) {
      console.error(totalLine(summary));
    }
    if (output.logPath) output.detail(`log: ${output.logPath}`);
    return { exitCode: exitCodeOf(report), json: summary };
  } catch (error) {
    output.log(`failed: ${errorMessage(error)}`);
    throw error;
  } finally {
    output.close();
  }
}
