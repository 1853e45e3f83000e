/**
 * Scale bench: our CLI (a subprocess) against `aws s3 sync` and `find` on a tree of
 * 100,000 to 1,000,000 files, with the listing served by bench/list_server.ts (a separate
 * process, so its memory is not counted). Prints, per run, wall time, peak RSS and the
 * requests the server saw; then the ratios our no-change / aws s3 sync and our
 * trust-state / find; then a listing-only measurement with 100 ms per request
 * (`--list-concurrency 1` vs `16` when the CLI has that option; until then one no-change
 * run, the sequential baseline; `--skip-latency` leaves it out).
 *
 * The tree is 100 × 100 folders × N/10,000 files of 0–511 bytes (bench/big_tree.ts), in a
 * temp dir under `--base` (default /tmp; 1,000,000 files take ~40 s to write on a quiet
 * machine's ext4, several times that while other jobs write files; `--base=/dev/shm`
 * builds on tmpfs in ~5–10 s, using ~4 GB of RAM, and SQLite's syncs cost nothing there).
 *
 * Usage: `deno run --allow-all bench/scale_bench.ts [--files=100000] [--base=DIR]
 * [--latency-ms=100] [--skip-latency]`
 *
 * @module
 */
import { benchEnv, cliCommand, MAIN_TS } from "./bench_env.ts";
import { buildBigTree, fileSystemOf, shapeFor } from "./big_tree.ts";
import { Cleanup, removeDir } from "./cleanup.ts";
import { cliSummary, tail } from "./cli_summary.ts";
import { mib, ratio, requestsText, seconds, table } from "./format.ts";
import { type ListServer, startListServer } from "./list_server.ts";
import { bestOf, measure, measureFind, type Measurement, stopMeasured } from "./measure.ts";

const BUCKET = "scale-bench";
const PREFIX = "nas/photos/";

function option(name: string): string | undefined {
  return Deno.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const FILES = Number(option("files") ?? 100_000);
if (!Number.isInteger(FILES) || FILES < 100 || FILES > 10_000_000) {
  console.error("--files must be an integer from 100 to 10,000,000");
  Deno.exit(2);
}
const LATENCY_MS = Number(option("latency-ms") ?? 100);
const SKIP_LATENCY = Deno.args.includes("--skip-latency");
const BASE = option("base") ?? "/tmp";

/** One row of the report. */
interface Row {
  label: string;
  run: Measurement;
  requests: Record<string, number>;
  note: string;
}

const say = (line = "") => console.log(line);
const cleanup = new Cleanup();
const root = Deno.makeTempDirSync({ dir: BASE, prefix: "s3ss-scale-" });
cleanup.add(async () => {
  const start = performance.now();
  await removeDir(root);
  say(`  removed ${root} in ${seconds(performance.now() - start)}`);
});
const tree = `${root}/tree`;
const env = benchEnv(`${root}/home`);
const rows: Row[] = [];
let server: ListServer | undefined;

function syncArgs(endpoint: string, extra: string[] = []): string[] {
  return [
    "sync",
    tree,
    `s3://${BUCKET}/${PREFIX}`,
    "--endpoint-url",
    endpoint,
    "--log-dir",
    `${root}/logs`,
    "--json",
    ...extra,
  ];
}

/** Runs our CLI once, measured; the server's counts are reset first. */
async function ours(label: string, extra: string[] = []): Promise<Row> {
  await server!.reset();
  const run = await measure(cliCommand(syncArgs(server!.endpoint, extra)), { env });
  const requests = await server!.requests();
  const summary = cliSummary(run.stdout);
  if (run.code !== 0 || !summary) {
    throw new Error(`${label}: exit ${run.code}\n${tail(run.stderr, 10)}\n${tail(run.stdout, 3)}`);
  }
  const note = `adopted ${summary.adopted}, uploads ${summary.uploads}, unchanged ` +
    `${summary.unchanged}; CLI's own time ${seconds(summary.durationMs)}`;
  return { label, run, requests, note };
}

/** `aws s3 sync` of the same tree (the state DB excluded, as batch does). */
async function aws(): Promise<Row> {
  await server!.reset();
  const run = await measure([
    "aws",
    "s3",
    "sync",
    tree,
    `s3://${BUCKET}/${PREFIX}`,
    "--endpoint-url",
    server!.endpoint,
    "--no-progress",
    "--no-follow-symlinks",
    "--exclude",
    ".s3-smart-sync.db*",
    "--exclude",
    "*/.s3-smart-sync.db*",
  ], { env });
  const requests = await server!.requests();
  const uploads = run.stdout.split("\n").filter((line) => line.startsWith("upload:")).length;
  if (run.code !== 0) throw new Error(`aws s3 sync: exit ${run.code}\n${tail(run.stderr, 10)}`);
  return { label: "aws s3 sync (no change)", run, requests, note: `uploads ${uploads}` };
}

function printRows(list: Row[]): void {
  say(table([
    ["run", "wall", "peak RSS", "requests (server's count)", "notes"],
    ...list.map((row) => [
      row.label,
      seconds(row.run.wallMs),
      mib(row.run.peakRssBytes),
      requestsText(row.requests),
      row.note,
    ]),
  ], [1, 2]));
}

try {
  const shape = shapeFor(FILES);
  const total = shape.top * shape.sub * shape.perDir;
  const fileSystem = await fileSystemOf(BASE);
  say(
    `s3-smart-sync scale bench — ${total.toLocaleString("en")} files (${shape.top} × ${shape.sub}` +
      ` × ${shape.perDir}) under ${BASE} (${fileSystem}); deno ${Deno.version.deno}, ` +
      `${navigator.hardwareConcurrency} cores; CLI ${MAIN_TS}`,
  );
  Deno.mkdirSync(tree);
  Deno.mkdirSync(`${root}/home`);
  let start = performance.now();
  await buildBigTree(tree, shape);
  say(`  tree built in ${seconds(performance.now() - start)}`);
  start = performance.now();
  server = await startListServer({ root: tree, bucket: BUCKET, prefix: PREFIX });
  cleanup.add(() => server?.stop());
  cleanup.add(stopMeasured); // runs first: a measured command still running is stopped
  say(`  list server (own process) indexed the tree in ${seconds(performance.now() - start)}`);
  const help = (await measure(cliCommand(["sync", "--help"]), { env })).stdout;
  const hasTrustState = help.includes("--trust-state");
  const hasListConcurrency = help.includes("--list-concurrency");

  await measureFind(tree); // warm the dentry and inode caches
  const find = await bestOf(3, () => measureFind(tree));
  rows.push(await ours("our sync, first run"));
  const noChange = await ours("our sync, no change");
  rows.push(noChange);
  const trust = hasTrustState
    ? await ours("our sync --trust-state, no change", ["--trust-state"])
    : undefined;
  if (trust) rows.push(trust);
  const awsRow = await aws();
  rows.push(awsRow);
  rows.push({ label: "find -printf (best of 3)", run: find, requests: {}, note: "" });
  say();
  printRows(rows);
  say();
  say(
    `  our no-change / aws s3 sync: ${ratio(noChange.run.wallMs, awsRow.run.wallMs)} wall, ` +
      `${ratio(noChange.run.peakRssBytes, awsRow.run.peakRssBytes)} peak RSS`,
  );
  say(`  our no-change / find: ${ratio(noChange.run.wallMs, find.wallMs)} wall`);
  say(
    trust
      ? `  our trust-state / find: ${ratio(trust.run.wallMs, find.wallMs)} wall`
      : "  our trust-state / find: n/a (sync --help does not mention --trust-state yet)",
  );

  if (!SKIP_LATENCY) {
    say();
    say(`Listing with ${LATENCY_MS} ms per request (${Math.ceil(total / 1000)} pages)`);
    await server.setLatency(LATENCY_MS);
    if (hasListConcurrency) {
      const one = await ours("our sync --list-concurrency 1", ["--list-concurrency", "1"]);
      const sixteen = await ours("our sync --list-concurrency 16", ["--list-concurrency", "16"]);
      printRows([one, sixteen]);
      say(`  --list-concurrency 16 / 1: ${ratio(sixteen.run.wallMs, one.run.wallMs)} wall`);
    } else {
      // The baseline a parallel listing will be compared with.
      printRows([await ours("our sync, no change (sequential listing)")]);
      say("  --list-concurrency: not available yet (sync --help does not mention it)");
    }
  }
} finally {
  await cleanup.run();
}
