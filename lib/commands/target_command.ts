/**
 * What `sync`, `moves` and `status` share: their options, the wiring of the S3
 * store, log and reporter around {@linkcode runTarget}, and the final report.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { archiveLogPath } from "../archive.ts";
import { errorMessage, type ExitCodeValue, UsageError } from "../errors.ts";
import type { ExecutionReporter } from "../execute.ts";
import { formatBytes } from "../format.ts";
import { defaultLogDir, type Output, redactUrl, RunLog } from "../log.ts";
import type { ObjectStore } from "../remote.ts";
import { exitCodeOf, type JsonSummary, jsonSummary, summaryLines } from "../report.ts";
import { withProgress } from "../progress.ts";
import { runTarget } from "../run_target.ts";
import { type ConnectionOptions, createS3Client, effectiveEndpoint, S3Store } from "../s3_store.ts";
import { formatS3Url, parseS3Url, type S3Location } from "../target.ts";

/** Storage classes accepted by `--storage-class`. */
export const STORAGE_CLASSES = [
  "STANDARD",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
  "REDUCED_REDUNDANCY",
] as const;

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

/** Options every command understands. */
export const COMMON_OPTIONS = {
  "dry-run": { type: "boolean" },
  exclude: { type: "string", multiple: true },
  delete: { type: "boolean" },
  "storage-class": { type: "string" },
  concurrency: { type: "string" },
  "endpoint-url": { type: "string" },
  profile: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  "log-dir": { type: "string" },
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
  help: { type: "boolean", short: "h" },
} as const;

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a size such as "8MiB", "8MB", "8M" or "8388608" (units are binary, as with
 * the aws CLI).
 *
 * @throws {UsageError} when it is not a size or is below `min`.
 */
export function parseSize(
  value: string | undefined,
  option: { name: string; min: number },
): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isFinite(bytes) || bytes < option.min) {
    throw new UsageError(
      `--${option.name} takes a size of at least ${option.min} bytes, such as 64MiB, not "${value}".`,
    );
  }
  return bytes;
}

/** Connection and transfer options shared by every command that talks to S3. */
export function parseConnection(values: {
  "endpoint-url"?: string;
  profile?: string;
  region?: string;
  sse?: string;
  "sse-kms-key-id"?: string;
  "full-checksums"?: boolean;
  "multipart-threshold"?: string;
  "multipart-chunksize"?: string;
  "copy-multipart-threshold"?: string;
  "copy-part-size"?: string;
}): ConnectionOptions {
  const sse = values.sse;
  if (sse !== undefined && sse !== "AES256" && sse !== "aws:kms") {
    throw new UsageError(`--sse takes AES256 or aws:kms, not "${sse}".`);
  }
  if (values["sse-kms-key-id"] !== undefined && sse !== "aws:kms") {
    throw new UsageError("--sse-kms-key-id needs --sse aws:kms.");
  }
  const MiB5 = 5 * 1024 * 1024;
  return {
    endpoint: values["endpoint-url"],
    profile: values.profile,
    region: values.region,
    fullChecksums: values["full-checksums"] ?? false,
    transfer: {
      sse: sse ? { algorithm: sse, kmsKeyId: values["sse-kms-key-id"] } : undefined,
      multipartThreshold: parseSize(values["multipart-threshold"], {
        name: "multipart-threshold",
        min: MiB5,
      }),
      partSize: parseSize(values["multipart-chunksize"], {
        name: "multipart-chunksize",
        min: MiB5,
      }),
      copyCutoff: parseSize(values["copy-multipart-threshold"], {
        name: "copy-multipart-threshold",
        min: 1,
      }),
      copyPartSize: parseSize(values["copy-part-size"], { name: "copy-part-size", min: MiB5 }),
    },
  };
}

/**
 * Parses argv with `node:util` parseArgs, turning its errors into a
 * {@linkcode UsageError} that names the command's help.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: { argv: string[]; options: T },
) {
  try {
    return parseArgs({
      args: args.argv,
      options: args.options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      `${
        errorMessage(error).replace(/\. To specify a positional argument.*$/, "")
      }. Run "s3-smart-sync ${command} --help" for the options.`,
    );
  }
}

/** Parses a whole number option within bounds. */
export function parseCount(
  value: string | undefined,
  option: { name: string; min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < option.min || number > option.max) {
    throw new UsageError(
      `--${option.name} takes a whole number from ${option.min} to ${option.max}, not "${value}".`,
    );
  }
  return number;
}

/** Validates `--storage-class`. */
export function parseStorageClass(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!(STORAGE_CLASSES as readonly string[]).includes(upper)) {
    throw new UsageError(
      `Unknown storage class "${value}". Use one of ${STORAGE_CLASSES.join(", ")}.`,
    );
  }
  return upper === "STANDARD" ? undefined : upper;
}

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
  if (command !== "sync") {
    if (values.delete) {
      throw new UsageError(`"${command}" never deletes; --delete belongs to "sync".`);
    }
  }
  const [localDir, url] = positionals as [string, string];
  return {
    command,
    localDir: localDir.length > 1 ? localDir.replace(/\/+$/, "") : localDir,
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
}

/** Default dependencies: a real S3 client. */
export const defaultDeps: TargetCommandDeps = {
  async openStore(connection, bucket) {
    return new S3Store(await createS3Client(connection), bucket, connection.transfer);
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
    }, { store, reporter }).finally(() => reporter.stop());
    if (report.lockTakenOverFrom) {
      output.log(
        `took over the lock of a run that ended without releasing it (${report.lockTakenOverFrom})`,
      );
    }
    for (const move of report.deferred) {
      output.detail(`deferred ${move.from} → ${move.to}: ${move.reason}`);
    }

    for (const entry of report.scanSkipped) {
      if (entry.kind === "unreadable" || entry.kind === "invalid name") {
        output.warn(`Skipped "${entry.path}": ${entry.reason}`);
      } else output.detail(`skipped ${entry.path}: ${entry.reason}`);
    }
    for (const entry of report.plan.skipped) {
      output.warn(`Skipped "${entry.path}": ${entry.reason}`);
    }
    const summary: JsonSummary = jsonSummary(report, {
      command: options.command,
      local: options.localDir,
      target,
      requests: store.requestCounts(),
      durationMs: performance.now() - started,
    });
    for (const line of summaryLines(summary)) output.info(line);
    if (options.quiet && !options.json && summary.exitCode !== 0) {
      console.error(summaryLines(summary).at(-1));
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
