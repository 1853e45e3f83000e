/**
 * What a run has done so far, counted from the reporter's events ({@linkcode RunTally}),
 * and the one-line progress display drawn from it on a terminal ({@linkcode ProgressLine}):
 * the stage (scanning N files, listing N objects, planning), then moves, uploads and
 * deletes done of their totals, bytes, the upload rate, the time left and the time
 * spent. The tally also gives the totals an interrupted or stopped run prints.
 *
 * @module
 */
import type { ExecutionReporter, Failure, PlannedTotals, RunPhase } from "../execute/executor.ts";
import type { DeleteAction, MoveStep, UploadAction } from "../model.ts";
import { formatBytes, formatCount } from "./format.ts";

/** Counts of a run so far. */
export interface Tally {
  /** The stage under way. */
  phase: RunPhase | "start";
  /** Local files and listed objects the merge has seen. */
  scanned: { files: number; objects: number };
  /** What the plan holds (zeros until planned). */
  planned: PlannedTotals;
  /** What is done. */
  done: { moves: number; uploads: number; deletes: number; failed: number; bytes: number };
}

/** Seconds over which the upload rate is averaged. */
const RATE_WINDOW_MS = 10_000;

/**
 * Counts a run's events; forwards each to `next` (the log's reporter). Give it as the
 * run's reporter, and read {@linkcode RunTally.tally} at any time.
 *
 * @example
 * ```ts
 * const tally = new RunTally();
 * tally.planned({ moves: 2, uploads: 0, uploadBytes: 0, deletes: 0 });
 * console.log(tally.tally.planned.moves); // 2
 * ```
 */
export class RunTally implements ExecutionReporter {
  readonly tally: Tally = {
    phase: "start",
    scanned: { files: 0, objects: 0 },
    planned: { moves: 0, uploads: 0, uploadBytes: 0, deletes: 0 },
    done: { moves: 0, uploads: 0, deletes: 0, failed: 0, bytes: 0 },
  };
  /** When the run started and when the execution started (ms, `now()`). */
  readonly startedMs: number;
  executingSinceMs: number | undefined;
  /** Bytes sent, as [time, total bytes] samples, for the rate. */
  readonly #samples: Array<[number, number]> = [];
  /** Something changed since the display last drew. */
  changed = true;

  constructor(
    private readonly next: ExecutionReporter = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedMs = now();
  }

  phase(phase: RunPhase): void {
    this.tally.phase = phase;
    if (phase === "execute") {
      this.executingSinceMs = this.now();
      this.#samples.push([this.executingSinceMs, this.tally.done.bytes]);
    }
    this.changed = true;
    this.next.phase?.(phase);
  }

  counted(more: { files: number; objects: number }): void {
    this.tally.scanned.files += more.files;
    this.tally.scanned.objects += more.objects;
    this.changed = true;
    this.next.counted?.(more);
  }

  phaseDone(phase: RunPhase, ms: number, summary: string): void {
    this.next.phaseDone?.(phase, ms, summary);
  }

  planned(totals: PlannedTotals): void {
    this.tally.planned = { ...totals };
    this.changed = true;
    this.next.planned?.(totals);
  }

  moved(step: MoveStep): void {
    // Steps into a temporary key are half of a swap: counted when the file arrives.
    if (!step.viaTemp || step.file) this.tally.done.moves++;
    this.changed = true;
    this.next.moved?.(step);
  }

  progress(bytes: number): void {
    this.tally.done.bytes += bytes;
    this.#samples.push([this.now(), this.tally.done.bytes]);
    this.changed = true;
    this.next.progress?.(bytes);
  }

  uploaded(action: UploadAction): void {
    this.tally.done.uploads++;
    this.changed = true;
    this.next.uploaded?.(action);
  }

  deleted(action: DeleteAction): void {
    this.tally.done.deletes++;
    this.changed = true;
    this.next.deleted?.(action);
  }

  failed(failure: Failure): void {
    this.tally.done.failed++;
    this.changed = true;
    this.next.failed?.(failure);
  }

  deferred(move: Parameters<NonNullable<ExecutionReporter["deferred"]>>[0]): void {
    this.next.deferred?.(move);
  }

  fellBack(step: MoveStep, why: string): void {
    this.next.fellBack?.(step, why);
  }

  /** Bytes per second sent over the last ten seconds or so (0 before any). */
  uploadRate(): number {
    const now = this.now();
    // The oldest sample kept is at or just before the window's start: the baseline.
    while (this.#samples.length > 1 && this.#samples[1]![0] <= now - RATE_WINDOW_MS) {
      this.#samples.shift();
    }
    const baseline = this.#samples[0];
    if (!baseline) return 0;
    const seconds = (now - baseline[0]) / 1000;
    return seconds >= 0.5 ? (this.tally.done.bytes - baseline[1]) / seconds : 0;
  }

  /**
   * Seconds left, from the bytes still to upload at the current rate, or (no bytes to
   * send) the actions left at the pace so far; undefined when it cannot be told yet.
   */
  secondsLeft(): number | undefined {
    const { planned, done } = this.tally;
    if (this.tally.phase !== "execute" || this.executingSinceMs === undefined) return undefined;
    const bytesLeft = planned.uploadBytes - done.bytes;
    const rate = this.uploadRate();
    if (bytesLeft > 0) return rate > 0 ? bytesLeft / rate : undefined;
    const actions = planned.moves + planned.uploads + planned.deletes;
    const finished = done.moves + done.uploads + done.deletes + done.failed;
    const elapsed = (this.now() - this.executingSinceMs) / 1000;
    if (finished === 0 || elapsed < 1) return undefined;
    return Math.max(0, ((actions - finished) * elapsed) / finished);
  }

  /** Seconds since the run started. */
  elapsedSeconds(): number {
    return (this.now() - this.startedMs) / 1000;
  }
}

/**
 * The progress line for a tally, at most `width` characters.
 *
 * @example
 * ```ts
 * const tally = new RunTally();
 * tally.phase("scan");
 * tally.counted({ files: 1200, objects: 1000 });
 * progressText(tally, 80); // "scanning: 1,200 files, 1,000 objects listed · 0s"
 * ```
 */
export function progressText(run: RunTally, width: number): string {
  const { phase, scanned, planned, done } = run.tally;
  const elapsed = duration(run.elapsedSeconds());
  let parts: string[];
  if (phase === "start" || phase === "scan") {
    parts = [
      `scanning: ${formatCount(scanned.files)} files, ${
        formatCount(scanned.objects)
      } objects listed`,
    ];
  } else if (phase === "plan") {
    parts = [`planning: ${formatCount(scanned.files)} files`];
  } else {
    parts = [];
    if (planned.moves > 0) parts.push(`moves ${of(done.moves, planned.moves)}`);
    if (planned.uploads > 0) {
      parts.push(
        `uploads ${of(done.uploads, planned.uploads)} (${formatBytes(done.bytes)}/${
          formatBytes(planned.uploadBytes)
        })`,
      );
      const rate = run.uploadRate();
      if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
    }
    if (planned.deletes > 0) parts.push(`deletes ${of(done.deletes, planned.deletes)}`);
    if (parts.length === 0) parts.push("nothing to do");
    if (done.failed > 0) parts.push(`${formatCount(done.failed)} failed`);
    const left = run.secondsLeft();
    if (left !== undefined) parts.push(`ETA ${duration(left)}`);
  }
  parts.push(elapsed);
  const text = parts.join(" · ");
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function of(done: number, total: number): string {
  return `${formatCount(done)}/${formatCount(total)}`;
}

/** 59s, 4m05s, 2h03m. */
function duration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

const encoder = new TextEncoder();

/**
 * Draws a tally's progress line on stderr at most ten times a second, and clears it
 * before anything else is printed (`clear()`, which the run's output calls).
 *
 * @example
 * ```ts ignore
 * const tally = new RunTally(logReporter);
 * const line = ProgressLine.start(tally);
 * // … the run, with tally as its reporter; output calls line.clear() before it prints …
 * line.stop();
 * ```
 */
export class ProgressLine {
  #shown = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastDrawMs = 0;

  private constructor(
    private readonly run: RunTally,
    private readonly write: (text: string) => void,
    private readonly width: () => number,
  ) {}

  /** Starts drawing `run`'s progress on stderr (a terminal). */
  static start(
    run: RunTally,
    options: { write?: (text: string) => void; width?: () => number; intervalMs?: number } = {},
  ): ProgressLine {
    const line = new ProgressLine(
      run,
      options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text))),
      options.width ?? terminalWidth,
    );
    const timer = setInterval(() => line.draw(), options.intervalMs ?? 100);
    Deno.unrefTimer(timer);
    line.#timer = timer;
    return line;
  }

  /** Redraws when something changed, or once a second for the clock. */
  draw(): void {
    const now = performance.now();
    if (!this.run.changed && now - this.#lastDrawMs < 1000) return;
    this.run.changed = false;
    this.#lastDrawMs = now;
    this.write(`\r\x1b[2K${progressText(this.run, this.width() - 1)}`);
    this.#shown = true;
  }

  /** Removes the line (before other output; it comes back at the next draw). */
  clear(): void {
    if (!this.#shown) return;
    this.write("\r\x1b[2K");
    this.#shown = false;
    this.run.changed = true;
  }

  /** Stops drawing and removes the line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
  }
}

/** The terminal's width; 80 where it does not say (a pseudo-terminal without a size). */
function terminalWidth(): number {
  try {
    const columns = Deno.consoleSize().columns;
    if (columns >= 20) return columns;
  } catch {
    // not a terminal after all
  }
  const fromEnv = Number(Deno.env.get("COLUMNS"));
  return fromEnv >= 20 ? fromEnv : 80;
}
