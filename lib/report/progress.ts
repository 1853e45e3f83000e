/**
 * A one-line progress display on stderr, only when stderr is a terminal (cron mail and
 * log files never see it).
 *
 * @module
 */
import type { ExecutionReporter, PlannedTotals } from "../execute/executor.ts";
import { formatBytes } from "./format.ts";

const encoder = new TextEncoder();

/**
 * Wraps a reporter so that, on a terminal, a line like
 * `moves 12/40 · uploads 120/5,000 (1.2 GiB/3.4 GiB) · deletes 0/3` is redrawn at most
 * twice a second. Returns the reporter unchanged when stderr is not a terminal.
 */
export function withProgress(
  reporter: ExecutionReporter,
  options: { enabled?: boolean } = {},
): ExecutionReporter & { stop(): void } {
  const enabled = options.enabled ?? Deno.stderr.isTerminal();
  if (!enabled) return { ...reporter, stop() {} };
  const totals = { moves: 0, uploads: 0, bytes: 0, deletes: 0 };
  const done = { moves: 0, uploads: 0, bytes: 0, deletes: 0, failed: 0 };
  let last = 0;
  let shown = false;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 500) return;
    last = now;
    shown = true;
    const line =
      `moves ${done.moves}/${totals.moves} · uploads ${done.uploads}/${totals.uploads} (` +
      `${formatBytes(done.bytes)}/${
        formatBytes(totals.bytes)
      }) · deletes ${done.deletes}/${totals.deletes}` +
      (done.failed ? ` · ${done.failed} failed` : "");
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
  };
  const clear = () => {
    if (shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    shown = false;
  };
  return {
    planned(planned: PlannedTotals) {
      totals.moves = planned.moves;
      totals.uploads = planned.uploads;
      totals.bytes = planned.uploadBytes;
      totals.deletes = planned.deletes;
      reporter.planned?.(planned);
    },
    moved(step) {
      done.moves++;
      reporter.moved?.(step);
      draw();
    },
    uploaded(action) {
      done.uploads++;
      done.bytes += action.file.size;
      reporter.uploaded?.(action);
      draw();
    },
    deleted(action) {
      done.deletes++;
      reporter.deleted?.(action);
      draw();
    },
    failed(failure) {
      done.failed++;
      clear();
      reporter.failed?.(failure);
    },
    deferred: reporter.deferred,
    fellBack(step, why) {
      clear();
      reporter.fellBack?.(step, why);
    },
    stop: clear,
  };
}
