/**
 * Runs a command and measures its wall time and peak resident memory.
 *
 * The peak comes from two sources, and the larger is reported:
 * - `/usr/bin/time -f %M` (where it exists) wraps the command: it prints the child's
 *   `ru_maxrss` from wait4(2), which the kernel keeps as the high-water mark of the
 *   process's RSS until it exits, so nothing is missed, however short the peak;
 * - `/proc/<pid>/status` of the command itself is sampled every ~20 ms: VmHWM is the
 *   same high-water mark (VmRSS the current value where VmHWM is missing), but the
 *   last sample may come up to 20 ms before the exit, and a process that lives less
 *   than a sample interval is not seen at all.
 *
 * @module
 */

/** What a measured run returned. */
export interface Measurement {
  /** Exit code of the command. */
  code: number;
  /** Wall time from spawn to exit, ms. */
  wallMs: number;
  /** Peak resident set size, bytes (max of the sampled VmHWM and /usr/bin/time's %M). */
  peakRssBytes: number;
  /** The sampled VmHWM alone, bytes (0 when no sample was taken). */
  sampledPeakBytes: number;
  /** /usr/bin/time's %M alone, bytes (0 when it was not used). */
  timePeakBytes: number;
  /** Standard output ("" when discarded). */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Options of {@linkcode measure}. */
export interface MeasureOptions {
  /** Environment (replaces this process's when given). */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** `null` to discard stdout (e.g. `find` over a million files). Default `piped`. */
  stdout?: "piped" | "null";
  /** Sampling interval, ms (default 20). */
  intervalMs?: number;
}

const TIME = "/usr/bin/time";
const hasTime = (() => {
  try {
    return Deno.statSync(TIME).isFile;
  } catch {
    return false;
  }
})();

/** Commands being measured: the spawned process and the command's own pid once known. */
const running = new Map<Deno.ChildProcess, { pid?: number }>();

/**
 * Stops every command being measured (SIGTERM to the command itself, not only to
 * /usr/bin/time, which would leave it running): for a bench's cleanup on an interrupt.
 */
export async function stopMeasured(): Promise<void> {
  for (const [child, inner] of running) {
    for (const pid of [inner.pid ?? (await childOf(child.pid)), child.pid]) {
      try {
        if (pid !== undefined) Deno.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  await Promise.all([...running.keys()].map((child) => child.status));
}

/** VmHWM (or VmRSS) of a process in bytes; 0 when it is gone. */
async function rssOf(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status) ?? /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pid of the (first) child of `pid`: the measured command under /usr/bin/time. */
async function childOf(pid: number): Promise<number | undefined> {
  try {
    const children = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
    const first = children.trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `cmd` (argv; `cmd[0]` looked up on PATH) and reports exit code, wall time, peak
 * RSS and output. The RSS of the command itself is measured, not of `/usr/bin/time`.
 *
 * @example
 * ```ts
 * const run = await measure(["find", "/tmp", "-type", "f"], { stdout: "null" });
 * console.log(run.wallMs, run.peakRssBytes);
 * ```
 */
export async function measure(cmd: string[], options: MeasureOptions = {}): Promise<Measurement> {
  const timeFile = hasTime ? await Deno.makeTempFile({ prefix: "s3ss-time-" }) : undefined;
  const argv = timeFile ? [TIME, "-f", "%M", "-o", timeFile, "--", ...cmd] : cmd;
  const start = performance.now();
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: options.env,
    clearEnv: options.env !== undefined,
    cwd: options.cwd,
    stdin: "null",
    stdout: options.stdout ?? "piped",
    stderr: "piped",
  }).spawn();
  let done = false;
  let sampled = 0;
  const inner: { pid?: number } = { pid: timeFile ? undefined : child.pid };
  running.set(child, inner);
  const sampler = (async () => {
    while (!done) {
      inner.pid ??= await childOf(child.pid);
      const pid = inner.pid;
      if (pid !== undefined) sampled = Math.max(sampled, await rssOf(pid));
      if (!done) await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
    }
  })();
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    options.stdout === "null"
      ? Promise.resolve(new Uint8Array())
      : new Response(child.stdout).bytes(),
    new Response(child.stderr).bytes(),
  ]);
  const wallMs = performance.now() - start;
  running.delete(child);
  done = true;
  await sampler;
  let timePeak = 0;
  if (timeFile) {
    const text = await Deno.readTextFile(timeFile).catch(() => "");
    await Deno.remove(timeFile).catch(() => {});
    // The last line is %M; earlier ones are "Command exited with non-zero status N".
    const kb = Number(text.trim().split("\n").at(-1));
    if (Number.isFinite(kb)) timePeak = kb * 1024;
  }
  return {
    code: status.code,
    wallMs,
    peakRssBytes: Math.max(sampled, timePeak),
    sampledPeakBytes: sampled,
    timePeakBytes: timePeak,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

/**
 * The `find` baseline: `find DIR -type f -printf '%i %s %T@ %P\n'` (inode, size, mtime and
 * path of every file: what a scan needs), output discarded, measured as {@linkcode measure}.
 */
export function measureFind(dir: string): Promise<Measurement> {
  return measure(["find", dir, "-type", "f", "-printf", "%i %s %T@ %P\\n"], { stdout: "null" });
}

/** Best (least wall time) of `runs` measurements of `run`. */
export async function bestOf(runs: number, run: () => Promise<Measurement>): Promise<Measurement> {
  let best: Measurement | undefined;
  for (let index = 0; index < runs; index++) {
    const result = await run();
    if (!best || result.wallMs < best.wallMs) best = result;
  }
  return best!;
}
