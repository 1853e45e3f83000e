/**
 * The `aws s3 sync` step of `batch`: its argument vector (the target's excludes and
 * the state DB's), reading its output, and spawning it without a shell.
 *
 * @module
 */
import { OperationError } from "../../errors.ts";
import { ALWAYS_EXCLUDED } from "../../scan/filter.ts";
import { formatS3Url, type S3Location } from "../../s3/location.ts";

/** What goes on the `aws s3 sync` command line besides the source and destination. */
export interface AwsSyncArgOptions {
  /** The target's exclude patterns, passed as they are. */
  excludes?: readonly string[];
  /** `--endpoint-url`. */
  endpoint?: string;
  /** `--profile`. */
  profile?: string;
  /** `--region`. */
  region?: string;
  /** `--storage-class`. */
  storageClass?: string;
  /** `--dryrun`: aws lists what it would do. */
  dryRun?: boolean;
  /**
   * `--delete` (default true). False holds aws's deletes, e.g. while some local folder
   * cannot be read: aws skips what it cannot read and would delete its objects.
   */
  deleteRemote?: boolean;
}

/**
 * Builds the argument vector of `aws s3 sync <localPath> s3://bucket/prefix --delete`
 * (without "aws" itself).
 *
 * @throws {OperationError} when the local path or prefix contains `*`, `?` or `[`: aws
 *   joins them unescaped to each exclude, which then would not keep the state DB out.
 *
 * @example
 * ```ts
 * awsSyncArgs("/volume1/photos", { bucket: "backup", prefix: "photos/" }, { excludes: ["*.tmp"] });
 * // ["s3", "sync", "/volume1/photos", "s3://backup/photos/", "--delete", "--no-progress", "--no-follow-symlinks",
 * //  "--exclude", "*.tmp", "--exclude", ".s3-smart-sync.db*", "--exclude", "*\/.s3-smart-sync.db*"]
 * ```
 */
export function awsSyncArgs(
  localPath: string,
  location: S3Location,
  options: AwsSyncArgOptions = {},
): string[] {
  // aws prefixes every --exclude with the source or destination root, unescaped.
  const unsafeRoot = [localPath, `${location.bucket}/${location.prefix}`].find((root) =>
    /[*?[]/.test(root)
  );
  if (unsafeRoot !== undefined) {
    throw new OperationError(
      `Cannot run aws s3 sync for ${localPath}: "${unsafeRoot}" contains *, ? or [, which aws reads as patterns in its excludes, so the state DB could not be excluded. Use --engine native, or rename the folder or prefix.`,
    );
  }
  // Symlinks are not followed, as by the moves engine: aws would otherwise upload what
  // they point at, possibly outside the synced directory.
  const args = [
    "s3",
    "sync",
    localPath,
    formatS3Url(location),
    ...(options.deleteRemote === false ? [] : ["--delete"]),
    "--no-progress",
    "--no-follow-symlinks",
  ];
  // Same reading of a leading "./" or "/" as the moves engine's excluder.
  const patterns = [
    ...(options.excludes ?? []).map((pattern) => pattern.replace(/^\.?\/+/, "")),
    // The state DB, its side files and its locks stay away from aws too.
    ...ALWAYS_EXCLUDED,
  ];
  for (const pattern of patterns) args.push("--exclude", pattern);
  if (options.endpoint) args.push("--endpoint-url", options.endpoint);
  if (options.profile) args.push("--profile", options.profile);
  if (options.region) args.push("--region", options.region);
  if (options.storageClass) args.push("--storage-class", options.storageClass);
  if (options.dryRun) args.push("--dryrun");
  return args;
}

/** What `aws s3 sync` reported doing, counted from its output lines. */
export interface AwsCounts {
  /** "upload:" lines. */
  uploads: number;
  /** "delete:" lines. */
  deletes: number;
  /** "copy:" lines. */
  copies: number;
}

/**
 * Reads one line of `aws s3 sync` output: the action it reports ("upload", "delete"
 * or "copy", also with `--dryrun`'s "(dryrun) " in front), or undefined.
 *
 * @example
 * ```ts
 * awsAction("upload: photos/a.jpg to s3://backup/photos/a.jpg"); // "upload"
 * awsAction("upload failed: photos/b.jpg to s3://backup/photos/b.jpg ..."); // undefined
 * ```
 */
export function awsAction(line: string): "upload" | "delete" | "copy" | undefined {
  const match = /^(?:\(dryrun\) )?(upload|delete|copy): /.exec(line);
  return match?.[1] as "upload" | "delete" | "copy" | undefined;
}

/** Adds a line's action to the counts. */
export function countAwsLine(counts: AwsCounts, line: string): void {
  const action = awsAction(line);
  if (action === "upload") counts.uploads++;
  else if (action === "delete") counts.deletes++;
  else if (action === "copy") counts.copies++;
}

/** Runs the `aws` program; swappable in tests. */
export interface AwsRunner {
  /** Where `aws` is, or undefined when it is not on PATH. */
  locate(): string | undefined;
  /**
   * Runs `aws` with `args` (no shell) and returns its exit code, handing over each
   * output line as it comes.
   */
  run(
    args: string[],
    options: {
      onLine(line: string, stream: "stdout" | "stderr"): void;
      /** Stops aws (SIGTERM) when aborted: the run was interrupted. */
      signal?: AbortSignal;
    },
  ): Promise<number>;
}

/** Says that `aws` is missing and names `--engine native`. */
export const AWS_MISSING =
  'The "aws" command (AWS CLI) was not found on PATH. Install it (e.g. "pip install awscli"), ' +
  'or run batch with "--engine native" to use the built-in sync instead, which needs nothing else installed.';

/**
 * Finds an executable on PATH, as a shell would.
 *
 * @example
 * ```ts
 * findOnPath("aws"); // "/usr/local/bin/aws"
 * ```
 */
export function findOnPath(
  name: string,
  options: { path?: string } = {},
): string | undefined {
  const windows = Deno.build.os === "windows";
  const dirs = (options.path ?? Deno.env.get("PATH") ?? "").split(windows ? ";" : ":");
  const suffixes = windows
    ? ["", ...(Deno.env.get("PATHEXT") ?? ".EXE;.CMD;.BAT").split(";")]
    : [""];
  for (const dir of dirs) {
    if (dir === "") continue;
    for (const suffix of suffixes) {
      const candidate = `${dir}/${name}${suffix}`;
      try {
        const info = Deno.statSync(candidate);
        if (info.isFile && (windows || ((info.mode ?? 0) & 0o111) !== 0)) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * A command line for logs: each argument shell-quoted where needed (aws itself is
 * never run through a shell).
 *
 * @example
 * ```ts
 * formatCommandLine(["s3", "sync", "my photos", "s3://b/"]); // "s3 sync 'my photos' s3://b/"
 * ```
 */
export function formatCommandLine(args: readonly string[]): string {
  return args.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)
    .join(" ");
}

/** What a run of `aws s3 sync` did. */
export interface AwsSyncOutcome extends AwsCounts {
  /** aws's exit code: 0 done, 2 files skipped, 1 or other a failure. */
  exitCode: number;
  /** Its last lines on stderr (the reasons of a warning or failure). */
  errorLines: string[];
}

/**
 * Runs `aws` with `args`, counting its upload, delete and copy lines and handing every
 * output line to `onLine`.
 *
 * @throws {OperationError} when `aws` cannot be started.
 */
export async function runAwsSync(
  args: string[],
  options: {
    runner: AwsRunner;
    onLine?(line: string, stream: "stdout" | "stderr"): void;
    signal?: AbortSignal;
  },
): Promise<AwsSyncOutcome> {
  const outcome: AwsSyncOutcome = {
    exitCode: 0,
    uploads: 0,
    deletes: 0,
    copies: 0,
    errorLines: [],
  };
  outcome.exitCode = await options.runner.run(args, {
    signal: options.signal,
    onLine(line, stream) {
      options.onLine?.(line, stream);
      if (stream === "stdout") countAwsLine(outcome, line);
      else outcome.errorLines = [...outcome.errorLines.slice(-4), line];
    },
  });
  return outcome;
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split(/\r?\n|\r/);
    buffered = lines.pop()!;
    for (const line of lines) if (line !== "") onLine(line);
  }
  if (buffered !== "") onLine(buffered);
}

/** The real `aws`, found on PATH and started with an argument vector. */
export const systemAws: AwsRunner = {
  locate: () => findOnPath("aws"),
  async run(args, options) {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("aws", {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new OperationError(AWS_MISSING);
      throw error;
    }
    const stop = () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
    };
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      await Promise.all([
        readLines(child.stdout, (line) => options.onLine(line, "stdout")),
        readLines(child.stderr, (line) => options.onLine(line, "stderr")),
      ]);
      return (await child.status).code;
    } finally {
      options.signal?.removeEventListener("abort", stop);
    }
  },
};
