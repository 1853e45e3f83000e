/**
 * The CLI as a subprocess that a test can kill, or run while it changes the tree: the
 * same command line and environment as {@linkcode runCli}, spawned instead of awaited.
 *
 * @module
 */
import { childEnv, type CliResult } from "./moto.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running CLI process. */
export interface SpawnedCli {
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** Resolves when the process has ended, with what it printed. */
  readonly result: Promise<CliResult & { signal: Deno.Signal | null }>;
  /** Sends a signal (SIGKILL by default); does nothing when the process is gone. */
  kill(signal?: Deno.Signal): void;
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  onLine?: (line: string) => void,
): Promise<string> {
  let text = "";
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const piece = decoder.decode(chunk, { stream: true });
    text += piece;
    if (onLine) {
      pending += piece;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) onLine(line);
    }
  }
  text += decoder.decode();
  return text;
}

/** Spawns `main.ts` with `args`, test credentials and HOME in `home`. */
export function spawnCli(
  args: string[],
  options: { home: string; env?: Record<string, string>; onStdoutLine?: (line: string) => void },
): SpawnedCli {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env: { ...childEnv(), HOME: options.home, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = readAll(child.stdout, options.onStdoutLine);
  const stderr = readAll(child.stderr);
  const result = (async () => {
    const status = await child.status;
    const out = await stdout;
    const err = await stderr;
    let json;
    if (args.includes("--json")) {
      try {
        json = JSON.parse(out.trim().split("\n").at(-1) ?? "");
      } catch {
        json = undefined;
      }
    }
    return { code: status.code, signal: status.signal, stdout: out, stderr: err, json };
  })();
  return {
    child,
    result,
    kill(signal: Deno.Signal = "SIGKILL") {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    },
  };
}

/** The usual arguments of a fixture's run: command, tree, URL, endpoint, log dir, --json. */
export function fixtureArgs(
  fixture: { src: string; url: string; base: string },
  command: string,
  endpoint: string,
  extra: string[] = [],
): string[] {
  return [
    command,
    fixture.src,
    fixture.url,
    "--endpoint-url",
    endpoint,
    "--log-dir",
    `${fixture.base}/logs`,
    "--json",
    ...extra,
  ];
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
