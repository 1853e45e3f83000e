/**
 * Speed goals of the scan and of a no-change run, measured against `find` on the same
 * tree in the same process run:
 *
 * 1. scanning a warm tree of 200,000 files takes at most 2.5× as long as
 *    `find DIR -type f -printf '%i %s %T@ %P\n'`;
 * 2. a run in which nothing changed lists the prefix and makes no other S3 request,
 *    writes nothing to the state DB, and finishes within 3× that `find` time plus the
 *    listing.
 *
 * The S3 side is an in-memory store (lib/s3/memory_store.ts), so the listing time is the
 * client-side cost of consuming 200 pages, not network time. Misses print FAIL; the
 * exit code stays 0 (benchmarks report, they do not fail CI).
 *
 * Usage: `deno task bench`, or
 * `deno run --allow-all bench/scan_bench.ts [--top=50] [--sub=40] [--per-dir=100] [--runs=5]`
 *
 * @module
 */
import { excluder, filter } from "../lib/scan/filter.ts";
import { plan } from "../lib/plan/plan.ts";
import { runTarget, type TargetRunOptions } from "../lib/run_target.ts";
import { scan } from "../lib/scan/scan.ts";
import { StateStore } from "../lib/state/store.ts";
import { MemoryStore, requestDelta } from "../lib/s3/memory_store.ts";
import { buildTree, fileCount, removeTree, type TreeShape } from "./tree.ts";
import { type FileRecord, type RemoteEntry } from "../lib/model.ts";

const SCAN_GOAL = 2.5;
const NO_CHANGE_GOAL = 3;

function numberArg(name: string, fallback: number): number {
  const arg = Deno.args.find((value) => value.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    Deno.exit(2);
  }
  return value;
}

const shape: TreeShape = {
  top: numberArg("top", 50),
  sub: numberArg("sub", 40),
  perDir: numberArg("per-dir", 100),
};
const RUNS = numberArg("runs", 5);
const NO_CHANGE_RUNS = Math.min(RUNS, 3);

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

function verdict(ok: boolean): string {
  return ok ? "PASS" : "FAIL";
}

/** Best (minimum) wall time of `runs` calls, in ms, with every time kept. */
async function best(runs: number, fn: () => unknown): Promise<{ min: number; all: number[] }> {
  const all: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    await fn();
    all.push(performance.now() - start);
  }
  return { min: Math.min(...all), all };
}

function runsOf(times: { all: number[] }): string {
  return times.all.map((ms) => (ms / 1000).toFixed(3)).join(" ");
}

function runFind(dir: string): void {
  const { success } = new Deno.Command("find", {
    args: [dir, "-type", "f", "-printf", "%i %s %T@ %P\n"],
    stdout: "null",
    stderr: "inherit",
  }).outputSync();
  if (!success) throw new Error("find failed");
}

const root = Deno.makeTempDirSync({ prefix: "s3ss-bench-" });
const dir = `${root}/tree`;
Deno.mkdirSync(dir);
const say = (line: string) => console.log(line);

try {
  const total = fileCount(shape);
  say(
    `s3-smart-sync scan bench — ${total.toLocaleString("en")} files ` +
      `(${shape.top} × ${shape.sub} folders × ${shape.perDir}), best of ${RUNS} ` +
      `(no-change: best of ${NO_CHANGE_RUNS}); deno ${Deno.version.deno}, ` +
      `${navigator.hardwareConcurrency} cores`,
  );

  let start = performance.now();
  buildTree(dir, shape);
  console.log(`  built tree in ${seconds(performance.now() - start)} at ${dir}`);

  // Warm the dentry/inode caches and the JIT.
  runFind(dir);
  scan(dir);

  // ---- Goal 1: scan vs find ----------------------------------------------------------
  const find = await best(RUNS, () => runFind(dir));
  let scanned = 0;
  const scanTimes = await best(RUNS, () => {
    scanned = scan(dir).files.length;
  });
  if (scanned !== total) throw new Error(`scan found ${scanned} files, expected ${total}`);
  const scanRatio = scanTimes.min / find.min;

  // ---- Goal 2: no-change run ---------------------------------------------------------
  // Pre-populate the bucket as if `aws s3 sync` had uploaded every file just now, so that
  // the first run adopts the objects (state rows written, no uploads).
  const store = new MemoryStore();
  const prefix = "nas/photos/";
  const lastModifiedMs = Math.ceil(Date.now() / 1000) * 1000;
  for (const file of scan(dir).files) {
    store.put(prefix + file.path, { size: file.size, lastModifiedMs, etag: store.nextEtag() });
  }
  const options: TargetRunOptions = {
    localDir: dir,
    location: { bucket: "bench-bucket", prefix },
    endpoint: "",
    mode: "sync",
  };

  start = performance.now();
  const first = await runTarget(options, { store });
  const firstMs = performance.now() - start;
  console.log(
    `  first run (adopts the pre-populated objects): ${seconds(firstMs)}, ` +
      `adopted ${first.plan.adopted}, uploads ${first.outcome.uploads.length}, ` +
      `state writes ${first.stateWrites}`,
  );

  const countsBefore = store.requestCounts();
  let lastReport = first;
  let maxWrites = 0;
  let everPlanned = false;
  const noChange = await best(NO_CHANGE_RUNS, async () => {
    lastReport = await runTarget(options, { store });
    maxWrites = Math.max(maxWrites, lastReport.stateWrites);
    const { moves, uploads, deletes, record } = lastReport.plan;
    everPlanned ||= moves.length + uploads.length + deletes.length + record.upsert.length +
        record.forget.length > 0;
  });
  const noChangeRequests = requestDelta(countsBefore, store.requestCounts());
  const perRun: Record<string, number> = {};
  for (const [operation, count] of Object.entries(noChangeRequests)) {
    perRun[operation] = count / NO_CHANGE_RUNS;
  }

  let listed = 0;
  const listing = await best(NO_CHANGE_RUNS, async () => {
    listed = 0;
    const remote = new Map<string, RemoteEntry>();
    for await (const page of store.list(prefix)) {
      for (const object of page) {
        remote.set(object.key.slice(prefix.length), object);
        listed++;
      }
    }
  });

  // Per-phase breakdown, the same steps runTarget takes, timed one by one.
  const state = StateStore.open(dir, { readOnly: true });
  let previous = new Map<string, FileRecord>();
  const stateLoad = await best(NO_CHANGE_RUNS, () => {
    previous = state.load(state.target({ endpoint: "", bucket: "bench-bucket", prefix }));
  });
  state.close();
  const isExcluded = excluder([]);
  const scannedFiles = scan(dir).files;
  let local = scannedFiles;
  const filterTime = await best(NO_CHANGE_RUNS, () => {
    local = filter(scannedFiles, { isExcluded, pathOf: (file) => file.path }).kept;
  });
  const remote = new Map<string, RemoteEntry>();
  for await (const page of store.list(prefix)) {
    for (const object of page) remote.set(object.key.slice(prefix.length), object);
  }
  let unchanged = 0;
  const planTime = await best(NO_CHANGE_RUNS, () => {
    unchanged = plan({ previous, local, remote }, { mode: "sync" }).unchanged;
  });

  // ---- Report ------------------------------------------------------------------------
  const noChangeRatio = (noChange.min - listing.min) / find.min;
  const onlyListing = Object.keys(perRun).length === 1 && perRun.ListObjectsV2 !== undefined;
  const expectedPages = Math.ceil(total / 1000);
  const writes = maxWrites;
  const nothingPlanned = !everPlanned;

  say("");
  say("Goal 1 — scan of a warm tree vs find");
  say(`  find:  ${seconds(find.min)}   (runs: ${runsOf(find)})`);
  say(`  scan:  ${seconds(scanTimes.min)}   (runs: ${runsOf(scanTimes)})`);
  say(
    `  find: ${seconds(find.min)} | scan: ${seconds(scanTimes.min)} | ratio ${
      scanRatio.toFixed(2)
    }x (goal ≤ ${SCAN_GOAL}x) ${verdict(scanRatio <= SCAN_GOAL)}`,
  );
  say("");
  say("Goal 2 — sync run in which nothing changed");
  say(`  no-change run: ${seconds(noChange.min)}   (runs: ${runsOf(noChange)})`);
  say(`  listing alone: ${seconds(listing.min)}   (${listed} objects, ${expectedPages} pages)`);
  say(
    `  no-change: ${seconds(noChange.min)} | listing: ${seconds(listing.min)} | ` +
      `(no-change − listing)/find ${noChangeRatio.toFixed(2)}x (goal ≤ ${NO_CHANGE_GOAL}x) ${
        verdict(noChangeRatio <= NO_CHANGE_GOAL)
      }`,
  );
  say(
    `  requests per no-change run: ${JSON.stringify(perRun)} ` +
      `(goal: only ListObjectsV2, ${expectedPages} pages) ${
        verdict(onlyListing && perRun.ListObjectsV2 === expectedPages)
      }`,
  );
  say(`  state writes (most in one run): ${writes} (goal: 0) ${verdict(writes === 0)}`);
  say(
    `  plan: unchanged ${lastReport.plan.unchanged}, moves ${lastReport.plan.moves.length}, ` +
      `uploads ${lastReport.plan.uploads.length}, deletes ${lastReport.plan.deletes.length}, ` +
      `records ${lastReport.plan.record.upsert.length + lastReport.plan.record.forget.length} ` +
      verdict(nothingPlanned && lastReport.plan.unchanged === total),
  );
  say("");
  say("Phases of a no-change run (each timed alone, best of runs)");
  const phases: Array<[string, number]> = [
    ["scan", scanTimes.min],
    ["state load", stateLoad.min],
    ["listing", listing.min],
    ["filter local", filterTime.min],
    ["plan", planTime.min],
  ];
  const sum = phases.reduce((acc, [, ms]) => acc + ms, 0);
  for (const [name, ms] of phases) {
    say(`  ${name.padEnd(12)} ${seconds(ms).padStart(8)}  ${(ms / find.min).toFixed(2)}x find`);
  }
  say(
    `  ${"sum".padEnd(12)} ${seconds(sum).padStart(8)}  (whole run: ${seconds(noChange.min)}; ` +
      `the rest is opening the DB, excluding listed keys and state rows, and GC)`,
  );
  say(`  (rows loaded: ${previous.size}, plan unchanged: ${unchanged})`);
} finally {
  removeTree(root);
}
