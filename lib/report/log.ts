/**
 * Run logs and console output. Every line goes to a timestamped log file, one per
 * run; the console gets the important lines (stdout for results, stderr for
 * warnings and errors).
 *
 * @module
 */
import { homeDir } from "../fs.ts";

/** Where the console output goes, and how much of it. */
export interface OutputOptions {
  /** Print only warnings and errors. */
  quiet?: boolean;
  /** Print every action, not only the summary. */
  verbose?: boolean;
  /** stdout is reserved for the final JSON object: results go to the log only. */
  json?: boolean;
}

/** Writes lines to the console and to the run log. */
export interface Output {
  /** A result line: console (unless quiet or json) and log. */
  info(message: string): void;
  /** A line shown with --verbose only; always logged. */
  detail(message: string): void;
  /** A warning: stderr and log. */
  warn(message: string): void;
  /** An error: stderr and log. */
  error(message: string): void;
  /** A line for the log file only. */
  log(message: string): void;
  /** Path of the log file, if any. */
  readonly logPath?: string;
}

/**
 * A URL with any user name, password or query removed, for logs and messages: secrets
 * never reach a log file.
 *
 * @example
 * ```ts
 * redactUrl("https://key:secret@minio.local:9000/?token=x"); // "https://***@minio.local:9000/"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hadUser = parsed.username !== "" || parsed.password !== "";
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    const text = parsed.toString();
    return hadUser ? text.replace("://", "://***@") : text;
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/** Run logs are named `<ISO time>-<command>-<pid>.log`; nothing else in the folder is. */
const RUN_LOG_NAME = /^\d{4}-\d{2}-\d{2}T[\d-]+(\.\d+)?Z-[a-z-]+-\d+\.log$/;

/**
 * Removes the run logs in `dir` older than `days` days (by modification time); other
 * files there (the archive log) are kept. Returns how many were removed.
 *
 * @example
 * ```ts
 * pruneRunLogs(defaultLogDir(), { days: 30 });
 * ```
 */
export function pruneRunLogs(dir: string, options: { days: number; nowMs?: number }): number {
  const cutoff = (options.nowMs ?? Date.now()) - options.days * 86_400_000;
  let removed = 0;
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(dir);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile || !RUN_LOG_NAME.test(entry.name)) continue;
    try {
      const mtime = Deno.statSync(`${dir}/${entry.name}`).mtime?.getTime();
      if (mtime !== undefined && mtime < cutoff) {
        Deno.removeSync(`${dir}/${entry.name}`);
        removed++;
      }
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** Default log folder: `~/.s3-smart-sync/logs`. */
export function defaultLogDir(): string {
  return `${homeDir()}/.s3-smart-sync/logs`;
}

const encoder = new TextEncoder();

/**
 * An {@linkcode Output} that writes a log file `logs/<time>-<command>.log` (owner-only
 * permissions) and prints to the console.
 *
 * @example
 * ```ts
 * const output = RunLog.open({ dir: defaultLogDir(), command: "sync" });
 * output.info("Nothing to do");
 * output.close();
 * ```
 */
export class RunLog implements Output {
  readonly logPath?: string;
  #file?: Deno.FsFile;
  /** Called before each line printed on the console (a progress line clears itself). */
  beforeConsole: () => void = () => {};

  private constructor(
    file: Deno.FsFile | undefined,
    logPath: string | undefined,
    private readonly options: OutputOptions,
  ) {
    this.#file = file;
    this.logPath = logPath;
  }

  /**
   * Creates the log folder and this run's file.
   *
   * @throws {Error} when the folder cannot be created or written.
   */
  static open(
    target: { dir: string; command: string; retentionDays?: number },
    options: OutputOptions = {},
  ): RunLog {
    Deno.mkdirSync(target.dir, { recursive: true, mode: 0o700 });
    if (target.retentionDays) pruneRunLogs(target.dir, { days: target.retentionDays });
    const stamp = new Date().toISOString().replace(/:/g, "-");
    const path = `${target.dir}/${stamp}-${target.command}-${Deno.pid}.log`;
    const file = Deno.openSync(path, { create: true, append: true, mode: 0o600 });
    return new RunLog(file, path, options);
  }

  #write(level: string, message: string): void {
    if (!this.#file) return;
    const lines = message.split("\n").map((line) =>
      `${new Date().toISOString()} ${level} ${line}\n`
    );
    this.#file.writeSync(encoder.encode(lines.join("")));
  }

  info(message: string): void {
    this.#write("INFO ", message);
    if (!this.options.quiet && !this.options.json) this.#print(console.log, message);
  }

  detail(message: string): void {
    this.#write("INFO ", message);
    if (this.options.verbose && !this.options.quiet && !this.options.json) {
      this.#print(console.log, message);
    }
  }

  warn(message: string): void {
    this.#write("WARN ", message);
    this.#print(console.error, `warning: ${message}`);
  }

  error(message: string): void {
    this.#write("ERROR", message);
    this.#print(console.error, `error: ${message}`);
  }

  #print(print: (message: string) => void, message: string): void {
    this.beforeConsole();
    print(message);
  }

  log(message: string): void {
    this.#write("INFO ", message);
  }

  /** Closes the log file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
