/**
 * Cleanup of what a bench started (servers, proxies, temp dirs), run once: at the end of
 * the bench (call {@linkcode Cleanup.run} in `finally`), or on SIGINT/SIGTERM.
 *
 * @module
 */

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Tasks run in reverse order of registration; a failing task does not stop the others.
 *
 * @example
 * ```ts
 * const cleanup = new Cleanup();
 * try {
 *   const dir = Deno.makeTempDirSync();
 *   cleanup.add(() => removeDir(dir));
 *   // …
 * } finally {
 *   await cleanup.run();
 * }
 * ```
 */
export class Cleanup {
  readonly #tasks: Array<() => unknown> = [];
  #running: Promise<void> | undefined;
  readonly #onSignal = () => {
    console.error("interrupted: stopping child processes and cleaning up");
    for (const pid of childPids()) {
      try {
        Deno.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    this.run().finally(() => Deno.exit(130));
  };

  /** Registers for SIGINT and SIGTERM. */
  constructor() {
    for (const signal of SIGNALS) Deno.addSignalListener(signal, this.#onSignal);
  }

  /** Adds a task (sync or async). */
  add(task: () => unknown): void {
    this.#tasks.push(task);
  }

  /** Runs every task once, newest first, and stops listening for signals. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const signal of SIGNALS) Deno.removeSignalListener(signal, this.#onSignal);
      for (const task of this.#tasks.reverse()) {
        try {
          await task();
        } catch (error) {
          console.error(`cleanup: ${error}`);
        }
      }
    })();
    return this.#running;
  }
}

/** The pids of this process's children (Linux: /proc/self/task/<tid>/children). */
export function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      const text = Deno.readTextFileSync(`/proc/self/task/${task.name}/children`).trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // not Linux, or the process is going away
  }
  return pids;
}

/**
 * Removes a directory tree with `rm -rf` (much faster than a recursive Deno.remove),
 * retrying a few times while something may still be writing into it.
 */
export async function removeDir(dir: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const removed = await new Deno.Command("rm", { args: ["-rf", "--", dir], stderr: "null" })
      .output();
    if (removed.success) return;
    if (attempt === 5) throw new Error(`rm -rf ${dir} failed`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
