/**
 * Ctrl-C and `kill`: the first SIGINT or SIGTERM asks the run to stop cleanly (nothing new
 * starts, what is under way is finished or stopped and recorded, the totals so far are
 * printed); a second one ends the process at once. Exit codes as shells give them:
 * 130 for SIGINT, 143 for SIGTERM.
 *
 * @module
 */
import { ExitCode, type ExitCodeValue } from "../errors.ts";

/** A run's interrupt: its signal, and which OS signal fired. */
export interface Interrupt {
  /** Aborted at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The OS signal that fired, if one did. */
  readonly received: "SIGINT" | "SIGTERM" | undefined;
  /** The exit code the run ends with: 130 after SIGINT, 143 after SIGTERM. */
  readonly exitCode: ExitCodeValue | undefined;
  /** Removes the handlers (at the end of the run). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM until disposed. `onFirst` is told when the first arrives
 * (to say that the run is stopping). Where signals cannot be listened to (Windows has no
 * SIGTERM), the run is simply not interruptible cleanly.
 *
 * @example
 * ```ts
 * const interrupt = listenForInterrupt(() => console.error("stopping…"));
 * try {
 *   // run, passing interrupt.signal
 * } finally {
 *   interrupt.dispose();
 * }
 * ```
 */
export function listenForInterrupt(onFirst: (signal: "SIGINT" | "SIGTERM") => void): Interrupt {
  const controller = new AbortController();
  let received: "SIGINT" | "SIGTERM" | undefined;
  const handlers: Array<[Deno.Signal, () => void]> = [];
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    const handler = () => {
      if (received !== undefined) {
        // A second signal: stop now. What was recorded stays; the next run completes it.
        Deno.exit(exitCodeOf(name));
      }
      received = name;
      onFirst(name);
      controller.abort(new DOMException(`${name} received`, "AbortError"));
    };
    try {
      Deno.addSignalListener(name, handler);
      handlers.push([name, handler]);
    } catch {
      // Not supported here.
    }
  }
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? undefined : exitCodeOf(received);
    },
    dispose() {
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
      handlers.length = 0;
    },
  };
}

function exitCodeOf(signal: "SIGINT" | "SIGTERM"): ExitCodeValue {
  return signal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated;
}
