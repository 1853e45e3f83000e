/**
 * `batch` with many moves waiting for archive restores against `batch` without them,
 * on the same tree and the same S3 server (moto), in one process run.
 *
 * aws s3 sync can only be kept off a deferred move's paths by one literal `--exclude` per
 * path, and it matches every file against every pattern: 1,000 waiting moves made its
 * step take 2 minutes instead of 2 seconds on 3,052 files. Such a target is now synced by
 * the built-in engine. Goal: a batch run of a target with 1,000 waiting moves takes at
 * most 1.5× the time of the same target without them.
 *
 * Usage: `deno run --allow-all bench/batch_deferred_bench.ts [--files=3052] [--deferred=1000]`
 *
 * @module
 */
import { BENCH_CREDENTIALS } from "./bench_env.ts";
import { startMoto } from "./moto_server.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
function numberArg(name: string, fallback: number): number {
  const arg = Deno.args.find((value) => value.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
}

const FILES = numberArg("files", 3052);
const DEFERRED = numberArg("deferred", 1000);

/** A tree: `deferred` files in `archive/`, the rest in 20 folders; an hour old. */
function buildTree(root: string): void {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const write = (path: string, text: string) => {
    Deno.mkdirSync(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${path}`, text);
    Deno.utimeSync(`${root}/${path}`, hourAgo, hourAgo);
  };
  for (let i = 0; i < DEFERRED; i++) write(`archive/img_${i}.jpg`, `archived ${i}`);
  for (let i = 0; i < FILES - DEFERRED; i++) write(`folder_${i % 20}/doc_${i}.txt`, `doc ${i}`);
}

async function cli(args: string[], home: string): Promise<{ code: number; ms: number }> {
  const started = performance.now();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env: { ...BENCH_CREDENTIALS, HOME: home },
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  if (code !== 0 && code !== 3) {
    throw new Error(`${args.join(" ")} exited ${code}: ${new TextDecoder().decode(stderr)}`);
  }
  return { code, ms };
}

const base = Deno.makeTempDirSync({ prefix: "s3ss-batch-bench-" });
const moto = await startMoto();
try {
  const results: Record<string, number> = {};
  for (const scenario of ["without", "with"] as const) {
    const root = `${base}/${scenario}/tree`;
    const home = `${base}/${scenario}/home`;
    Deno.mkdirSync(home, { recursive: true });
    buildTree(root);
    const bucket = `bench-${scenario}`;
    await moto.createBucket(bucket);
    const config = `${base}/${scenario}/batch.conf`;
    Deno.writeTextFileSync(config, `${root} | ${bucket} | p |\n`);
    const common = ["--endpoint-url", moto.endpoint, "--log-dir", `${base}/${scenario}/logs`];
    // The archived folder is uploaded as DEEP_ARCHIVE, the rest by the first batch.
    await cli([
      "sync",
      `${root}/archive`,
      `s3://${bucket}/p/archive`,
      "--storage-class",
      "DEEP_ARCHIVE",
      ...common,
    ], home);
    Deno.removeSync(`${root}/archive/.s3-smart-sync.db`);
    await cli(["batch", "--config", config, ...common], home);
    if (scenario === "with") Deno.renameSync(`${root}/archive`, `${root}/archive-renamed`);
    else Deno.renameSync(`${root}/folder_0`, `${root}/folder_0-renamed`);
    // The first run after the change finds the deferrals (moves, then the built-in sync);
    // the next ones know them from the state DB and sync once.
    const first = await cli(["batch", "--config", config, ...common], home);
    console.log(
      `${scenario.padEnd(7)} first run after the change: ${(first.ms / 1000).toFixed(2)}s`,
    );
    const runs = [];
    for (let run = 0; run < 3; run++) {
      runs.push((await cli(["batch", "--config", config, ...common], home)).ms);
    }
    results[scenario] = Math.min(...runs);
    console.log(
      `${scenario.padEnd(7)} ${DEFERRED} waiting moves: batch ${
        (results[scenario]! / 1000).toFixed(2)
      }s ` +
        `(runs: ${runs.map((ms) => (ms / 1000).toFixed(2)).join(" ")})`,
    );
  }
  const ratio = results.with! / results.without!;
  console.log(
    `ratio with/without: ${ratio.toFixed(2)}x (goal ≤ 1.5x) ${ratio <= 1.5 ? "PASS" : "FAIL"}`,
  );
} finally {
  await moto.stop();
  new Deno.Command("rm", { args: ["-rf", base] }).outputSync();
}
