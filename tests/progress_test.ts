/**
 * The progress line: what it says at each stage, rates and ETA on a fake clock, and how
 * it gets out of the way of other output.
 */
import assert from "node:assert/strict";
import { ProgressLine, progressText, RunTally } from "../lib/report/progress.ts";
import type { MoveStep, UploadAction } from "../lib/model.ts";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => now += ms };
}

const file = (size: number) => ({ path: "a", dev: 0, ino: 1n, size, mtimeMs: 0 });
const upload = (size: number): UploadAction => ({ key: "a", file: file(size), reason: "new" });
const step = (viaTemp = false, withFile = true): MoveStep => ({
  from: "a",
  to: "b",
  size: 1,
  reason: "renamed",
  viaTemp,
  ...(withFile ? { file: file(1) } : {}),
} as MoveStep);

Deno.test("progressText() shows the scan, then planning, with the time spent", () => {
  const time = clock();
  const tally = new RunTally({}, time.now);
  tally.phase("scan");
  tally.counted({ files: 1200, objects: 0 });
  tally.counted({ files: 0, objects: 1000 });
  time.advance(3_400);
  assert.equal(progressText(tally, 200), "scanning: 1,200 files, 1,000 objects listed · 3s");
  tally.phase("plan");
  time.advance(62_000);
  assert.equal(progressText(tally, 200), "planning: 1,200 files · 1m05s");
});

Deno.test("progressText() shows done/total, bytes, the upload rate and the time left", () => {
  const time = clock();
  const tally = new RunTally({}, time.now);
  tally.phase("execute");
  tally.planned({ moves: 40, uploads: 10, uploadBytes: 100_000_000, deletes: 3 });
  for (let index = 0; index < 12; index++) tally.moved(step());
  time.advance(2_000);
  tally.progress(10_000_000);
  tally.uploaded(upload(10_000_000));
  time.advance(2_000);
  tally.progress(10_000_000);
  tally.uploaded(upload(10_000_000));
  // 20 MB in 4 s: 5 MB/s; 80 MB left: 16 s.
  assert.equal(
    progressText(tally, 200),
    "moves 12/40 · uploads 2/10 (19.1 MiB/95.4 MiB) · 4.77 MiB/s · deletes 0/3 · ETA 16s · 4s",
  );
  assert.ok(progressText(tally, 30).length <= 30);
  assert.ok(progressText(tally, 30).endsWith("…"));
});

Deno.test("the tally counts a swap once, failures, and forwards every event", () => {
  const seen: string[] = [];
  const tally = new RunTally({
    moved: () => seen.push("moved"),
    uploaded: () => seen.push("uploaded"),
    deleted: () => seen.push("deleted"),
    failed: () => seen.push("failed"),
    phaseDone: (phase) => seen.push(`done ${phase}`),
  });
  tally.phase("execute");
  tally.planned({ moves: 1, uploads: 1, uploadBytes: 5, deletes: 1 });
  tally.moved(step(true, false)); // into a temporary key: half of a swap
  tally.moved(step(false, true));
  tally.uploaded(upload(5));
  tally.deleted({ key: "x", size: 1, reason: "no local file" });
  tally.failed({ action: "upload", key: "y", message: "no", kind: "error" });
  tally.phaseDone("execute", 10, "");
  assert.deepEqual(tally.tally.done, { moves: 1, uploads: 1, deletes: 1, failed: 1, bytes: 0 });
  assert.deepEqual(seen, ["moved", "moved", "uploaded", "deleted", "failed", "done execute"]);
  assert.match(progressText(tally, 200), /1 failed/);
});

Deno.test("the time left from the pace of actions when there is nothing to upload", () => {
  const time = clock();
  const tally = new RunTally({}, time.now);
  tally.phase("execute");
  tally.planned({ moves: 100, uploads: 0, uploadBytes: 0, deletes: 0 });
  time.advance(2_000);
  for (let index = 0; index < 25; index++) tally.moved(step());
  assert.equal(tally.secondsLeft(), 6);
  assert.match(progressText(tally, 200), /^moves 25\/100 · ETA 6s · 2s$/);
});

Deno.test("ProgressLine draws on a timer and clears itself before other output", async () => {
  const written: string[] = [];
  const tally = new RunTally();
  tally.phase("scan");
  const line = ProgressLine.start(tally, {
    write: (text) => written.push(text),
    width: () => 80,
    intervalMs: 10,
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(written.some((text) => text.startsWith("\r\x1b[2Kscanning: 0 files")), written[0]);
  const drawn = written.length;
  line.clear();
  assert.equal(written.at(-1), "\r\x1b[2K");
  line.clear();
  assert.equal(written.length, drawn + 1, "a cleared line is not cleared twice");
  line.stop();
  const stopped = written.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(written.length, stopped, "nothing is drawn once stopped");
});
