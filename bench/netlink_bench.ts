/**
 * Link bench: the standard change set (bench/change_set.ts) on 2,000 files of 10–20 KB,
 * synced through a "home NAS link" (bench/net_proxy.ts: 30 ms per request, uploads capped
 * at 5 MB/s) to moto (or Ceph RGW with `--server=rgw`), by our CLI (`sync --delete`, prefix
 * `ours/`) and by `aws s3 sync --delete` (prefix `aws/`), each on its own identical copy of
 * the tree.
 * Both copies are first synced unmeasured, through the proxy with no limits (our state DB
 * keys its targets by endpoint, so the measured run must use the same endpoint).
 *
 * Prints requests by operation, total requests, bytes uploaded and wall time per tool; the
 * physical minimum (300 CopyObject + 150 PutObject + 1 DeleteObjects + the listing pages);
 * and the ratios our requests / minimum, our bytes / new-content bytes, our wall / aws wall.
 * Then checks that each prefix mirrors its tree (keys and sizes).
 *
 * moto handles about one request at a time (~6 ms each on this machine), so behind it both
 * tools' wall times follow their request counts rather than the link; RGW serves requests
 * in parallel, so behind it the link bounds them, as on S3.
 *
 * Usage: `deno run --allow-all bench/netlink_bench.ts [--latency-ms=30] [--up-mbps=5]
 * [--server=moto|rgw]`; `S3SS_BENCH_ARGS="--move-concurrency 16"` adds options to our
 * measured run. `--up-mbps` is in MB/s, decimal.
 *
 * @module
 */
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { benchClient, benchEnv, cliCommand, MAIN_TS } from "./bench_env.ts";
import { applyChangeSet, standardChangeSet, writeInitialTree } from "./change_set.ts";
import { Cleanup, removeDir } from "./cleanup.ts";
import { cliSummary, tail } from "./cli_summary.ts";
import { mb, mib, ratio, requestsText, seconds, table, totalRequests } from "./format.ts";
import { measure, type Measurement, stopMeasured } from "./measure.ts";
import { type MotoServer, startMoto } from "./moto_server.ts";
// RGW's start-up (a throw-away single-node Ceph cluster) is the tests' own helper: 600 lines
// not worth a second copy.
import { startRgw } from "../tests/helpers/rgw.ts";
import { type NetProxy, type NetProxyStats, startNetProxy } from "./net_proxy.ts";

const BUCKET = "netlink-bench";

function option(name: string, fallback: number): number {
  const value = Deno.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  return value === undefined ? fallback : Number(value);
}

const LATENCY_MS = option("latency-ms", 30);
const UP_BYTES_PER_SECOND = option("up-mbps", 5) * 1e6;
/** Extra options of our measured run (e.g. `S3SS_BENCH_ARGS="--move-concurrency 16"`). */
const EXTRA_ARGS = (Deno.env.get("S3SS_BENCH_ARGS") ?? "").split(" ").filter(Boolean);
const say = (line = "") => console.log(line);
const cleanup = new Cleanup();
const base = Deno.makeTempDirSync({ prefix: "s3ss-netlink-" });
cleanup.add(() => removeDir(base));
const env = benchEnv(`${base}/home`);
/** The S3 server behind the proxy: moto (default) or Ceph RGW (`--server=rgw`). */
const SERVER = Deno.args.find((arg) => arg.startsWith("--server="))?.slice(9) ?? "moto";
if (SERVER !== "moto" && SERVER !== "rgw") {
  console.error(`--server must be moto or rgw, not ${SERVER}`);
  Deno.exit(2);
}
let server: MotoServer | undefined;

/**
 * Ceph RGW in the shape of a {@linkcode MotoServer}: a multi-threaded C++ server, where
 * moto handles one request at a time (about 6 ms each here), so the link, not the server,
 * bounds the wall time.
 */
async function startRgwServer(): Promise<MotoServer> {
  const rgw = await startRgw();
  const client = benchClient(rgw.endpoint);
  return {
    endpoint: rgw.endpoint,
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop: async () => {
      client.destroy();
      await rgw.stop();
    },
  };
}
let proxy: NetProxy | undefined;

function ourSync(dir: string, extra: string[] = []): string[] {
  return cliCommand([
    "sync",
    dir,
    `s3://${BUCKET}/ours/`,
    "--endpoint-url",
    proxy!.endpoint,
    "--log-dir",
    `${base}/logs`,
    "--json",
    ...extra,
  ]);
}

function awsSync(dir: string, extra: string[] = []): string[] {
  return [
    "aws",
    "s3",
    "sync",
    dir,
    `s3://${BUCKET}/aws/`,
    "--endpoint-url",
    proxy!.endpoint,
    "--no-progress",
    "--no-follow-symlinks",
    ...extra,
  ];
}

async function run(label: string, cmd: string[]): Promise<Measurement> {
  const result = await measure(cmd, { env });
  if (result.code !== 0) {
    throw new Error(
      `${label}: exit ${result.code}\n${tail(result.stderr, 10)}\n${tail(result.stdout)}`,
    );
  }
  return result;
}

/** Keys under `prefix` with sizes, listed from the server directly (not through the proxy). */
async function listed(prefix: string): Promise<Map<string, number>> {
  const objects = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await server!.client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      objects.set(object.Key!.slice(prefix.length), object.Size!);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** Whether the objects under `prefix` are exactly the files of `dir` (keys and sizes). */
async function mirrors(dir: string, prefix: string): Promise<string> {
  const found = await new Deno.Command("find", {
    args: [dir, "-type", "f", "!", "-name", ".s3-smart-sync.db*", "-printf", "%s %P\\n"],
    stdout: "piped",
  }).output();
  const local = new Map<string, number>();
  for (const line of new TextDecoder().decode(found.stdout).trim().split("\n")) {
    const space = line.indexOf(" ");
    local.set(line.slice(space + 1), Number(line.slice(0, space)));
  }
  const remote = await listed(prefix);
  const missing = [...local].filter(([key, size]) => remote.get(key) !== size).length;
  const extra = [...remote.keys()].filter((key) => !local.has(key)).length;
  return missing + extra === 0
    ? `ok (${remote.size} objects)`
    : `MISMATCH: ${missing} missing or wrong size, ${extra} extra`;
}

try {
  say(
    `s3-smart-sync link bench — 2,000 files, standard change set, through ${LATENCY_MS} ms per ` +
      `request and ${mb(UP_BYTES_PER_SECOND)}/s up, to ${SERVER}; deno ${Deno.version.deno}; ` +
      `CLI ${MAIN_TS}`,
  );
  Deno.mkdirSync(`${base}/home`);
  server = SERVER === "rgw" ? await startRgwServer() : await startMoto();
  cleanup.add(() => server?.stop());
  await server.createBucket(BUCKET);
  proxy = await startNetProxy({ upstream: server.endpoint, latencyMs: 0, uploadBytesPerSecond: 0 });
  cleanup.add(() => proxy?.stop());
  cleanup.add(stopMeasured); // runs first: a measured command still running is stopped
  const ours = `${base}/ours`;
  const theirs = `${base}/aws`;
  const initial = writeInitialTree(ours);
  const copied = await new Deno.Command("cp", { args: ["-a", ours, theirs] }).output();
  if (!copied.success) throw new Error("cp -a failed");
  say(`  initial tree: ${initial.files} files, ${mb(initial.bytes)}, mtimes an hour ago`);

  const start = performance.now();
  const first = cliSummary((await run("our first sync", ourSync(ours))).stdout);
  await run("aws first sync", awsSync(theirs));
  say(
    `  initial syncs (unmeasured, no link limits): ${seconds(performance.now() - start)}; ` +
      `ours uploaded ${first?.uploads}`,
  );

  const changes = standardChangeSet();
  applyChangeSet(ours, changes);
  applyChangeSet(theirs, changes);
  const pages = Math.ceil(initial.files / 1000);
  const minimum = totalRequests(changes.minimum) + pages;

  proxy.setLink({ latencyMs: LATENCY_MS, uploadBytesPerSecond: UP_BYTES_PER_SECOND });
  proxy.reset();
  const ourRun = await run("our sync --delete", ourSync(ours, ["--delete", ...EXTRA_ARGS]));
  const ourStats: NetProxyStats = proxy.stats();
  proxy.reset();
  const awsRun = await run("aws s3 sync --delete", awsSync(theirs, ["--delete"]));
  const awsStats: NetProxyStats = proxy.stats();
  proxy.setLink({ latencyMs: 0, uploadBytesPerSecond: 0 });

  const summary = cliSummary(ourRun.stdout);
  const awsUploads = awsRun.stdout.split("\n").filter((line) => line.startsWith("upload:")).length;
  const awsDeletes = awsRun.stdout.split("\n").filter((line) => line.startsWith("delete:")).length;
  say();
  say(table([
    ["tool", "wall", "peak RSS", "requests", "bytes up", "what it did", "requests by operation"],
    [
      "our sync --delete",
      seconds(ourRun.wallMs),
      mib(ourRun.peakRssBytes),
      String(ourStats.total),
      mb(ourStats.bytesUp),
      `${summary?.moves} moved, ${summary?.uploads} uploaded, ${summary?.deletes} deleted`,
      requestsText(ourStats.requests),
    ],
    [
      "aws s3 sync --delete",
      seconds(awsRun.wallMs),
      mib(awsRun.peakRssBytes),
      String(awsStats.total),
      mb(awsStats.bytesUp),
      `${awsUploads} uploaded, ${awsDeletes} deleted`,
      requestsText(awsStats.requests),
    ],
    [
      "physical minimum",
      "",
      "",
      String(minimum),
      mb(changes.newBytes),
      "300 moved, 150 uploaded, 400 deleted",
      `${requestsText(changes.minimum)}, ListObjectsV2 ${pages}`,
    ],
  ], [1, 2, 3, 4]));
  say();
  say(
    `  our requests / minimum:        ${ratio(ourStats.total, minimum)}` +
      `   (aws: ${ratio(awsStats.total, minimum)})`,
  );
  say(
    `  our bytes up / new content:    ${ratio(ourStats.bytesUp, changes.newBytes)}` +
      `   (aws: ${ratio(awsStats.bytesUp, changes.newBytes)})`,
  );
  say(`  our wall / aws wall:           ${ratio(ourRun.wallMs, awsRun.wallMs)}`);
  if (summary?.phasesMs) {
    say(
      `  our phases (ms): ${
        Object.entries(summary.phasesMs).map(([phase, ms]) => `${phase} ${ms}`).join(", ")
      } (moves and uploads overlap)`,
    );
  }
  say(`  prefix ours/ mirrors its tree: ${await mirrors(ours, "ours/")}`);
  say(`  prefix aws/ mirrors its tree:  ${await mirrors(theirs, "aws/")}`);
} finally {
  await cleanup.run();
}
