/**
 * The CLI as a subprocess that a test can watch and kill at any moment: the same command
 * line and environment as {@linkcode runCli}, spawned instead of awaited, with its stdout
 * read as it comes so that a kill can wait for a given number of lines.
 *
 * @module
 */
import { childEnv } from "./moto.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** How a watched run ended. */
export interface WatchedEnd {
  /** Exit code (for a killed process, 128 + the signal number). */
  code: number;
  /** The signal that ended it, if any. */
  signal: Deno.Signal | null;
  /** Whether this test killed it (false when it ended on its own first). */
  killed: boolean;
  /** Everything it printed on stdout. */
  stdout: string;
  /** Everything it printed on stderr. */
  stderr: string;
}

/**
 * A running `main.ts`. Its output is collected as it arrives; {@linkcode WatchedRun.kill}
 * sends SIGKILL and waits for the process and its pipes to end.
 *
 * @example
 * ```ts
 * const run = WatchedRun.spawn(["sync", src, url, "--verbose"], { home });
 * await run.waitForLines(10, 30_000);
 * const end = await run.kill();
 * ```
 */
export class WatchedRun {
  #stdout = "";
  #stderr = "";
  #lines = 0;
  #exited = false;
  readonly #done: Promise<void>;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #started = performance.now();

  private constructor(private readonly child: Deno.ChildProcess) {
    this.#status = child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    const decode = async (
      stream: ReadableStream<Uint8Array>,
      onText: (text: string) => void,
    ) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
      onText(decoder.decode());
    };
    this.#done = Promise.all([
      decode(child.stdout, (text) => {
        this.#stdout += text;
        for (const char of text) if (char === "\n") this.#lines++;
      }),
      decode(child.stderr, (text) => {
        this.#stderr += text;
      }),
    ]).then(() => {});
  }

  /** Spawns `main.ts` with `args`, test credentials and HOME in `home`. */
  static spawn(args: string[], options: { home: string; env?: Record<string, string> }) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", MAIN, ...args],
      env: { ...childEnv(), HOME: options.home, ...options.env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new WatchedRun(child);
  }

  /** Lines printed on stdout so far. */
  get lines(): number {
    return this.#lines;
  }

  /** Milliseconds since the process was spawned. */
  get elapsedMs(): number {
    return performance.now() - this.#started;
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Waits until `ready()` holds, the process ends, or `timeoutMs` passes; polls every
   * `everyMs`. Resolves true when `ready()` held while the process was still running.
   */
  async waitUntil(
    ready: () => boolean | Promise<boolean>,
    options: { timeoutMs: number; everyMs?: number },
  ): Promise<boolean> {
    const deadline = performance.now() + options.timeoutMs;
    while (!this.#exited && performance.now() < deadline) {
      if (await ready()) return !this.#exited;
      await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 5));
    }
    return false;
  }

  /** Waits until stdout holds at least `lines` lines (see {@linkcode waitUntil}). */
  waitForLines(lines: number, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.#lines >= lines, { timeoutMs, everyMs: 2 });
  }

  /** Sends SIGKILL unless the process already ended, and waits for it. */
  async kill(): Promise<WatchedEnd> {
    let killed = false;
    if (!this.#exited) {
      try {
        this.child.kill("SIGKILL");
        killed = true;
      } catch {
        // it ended in between
      }
    }
    return await this.#end(killed);
  }

  /** Waits for the process to end on its own. */
  wait(): Promise<WatchedEnd> {
    return this.#end(false);
  }

  async #end(killed: boolean): Promise<WatchedEnd> {
    const status = await this.#status;
    await this.#done;
    return {
      code: status.code,
      signal: status.signal,
      killed: killed && status.signal === "SIGKILL",
      stdout: this.#stdout,
      stderr: this.#stderr,
    };
  }
}

/** The arguments of a run against a fixture's tree and bucket through `endpoint`. */
export function targetArgs(
  fixture: { src: string; url: string; base: string },
  options: { command?: string; endpoint: string; extra?: string[] },
): string[] {
  return [
    options.command ?? "sync",
    fixture.src,
    fixture.url,
    "--endpoint-url",
    options.endpoint,
    "--log-dir",
    `${fixture.base}/logs`,
    ...(options.extra ?? []),
  ];
}
