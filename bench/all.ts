/**
 * `deno task bench`: the benchmarks one after the other, each in its own process (so
 * that each stops what it starts), their output as they print it:
 *
 * - scale: first, no-change and --trust-state runs vs `aws s3 sync` and `find`, on a tree
 *   of `--files` files (default 100,000; 1,000,000 fits a 2-core machine in a few
 *   minutes with `--base=/dev/shm`), plus the listing with 100 ms per request;
 * - netlink: the standard change set through a 30 ms / 5 MB/s link vs `aws s3 sync --delete`,
 *   to moto (which handles one request at a time: the server bounds both tools' wall time);
 * - netlink-rgw: the same to Ceph RGW (multi-threaded: the link bounds it), when installed;
 * - listing: parallel ranges vs one stream, with 100 ms per LIST;
 * - batch: `batch` with 1,000 moves waiting for restores vs without.
 *
 * Usage: `deno task bench [--only=scale,netlink,netlink-rgw,listing,batch] [--files=N] [--base=DIR]`
 * (`--files` and `--base` go to the scale bench).
 *
 * @module
 */

import { missingRgwBinaries } from "../tests/helpers/rgw.ts";

interface Bench {
  file: string;
  args: (given: string[]) => string[];
  /** Why it cannot run on this machine, if it cannot. */
  unavailable?: () => string | undefined;
}

const BENCHES: Record<string, Bench> = {
  scale: {
    file: "scale_bench.ts",
    args: (given) => given.filter((arg) => /^--(files|base|latency-ms|skip-latency)/.test(arg)),
  },
  netlink: { file: "netlink_bench.ts", args: () => [] },
  "netlink-rgw": {
    file: "netlink_bench.ts",
    args: () => ["--server=rgw"],
    unavailable: () => {
      const missing = missingRgwBinaries();
      return missing.length === 0
        ? undefined
        : `Ceph RGW is not installed (${missing.join(", ")}); scripts/install_rgw.sh installs it`;
    },
  },
  listing: { file: "listing_bench.ts", args: () => [] },
  batch: { file: "batch_deferred_bench.ts", args: () => [] },
};

const only = Deno.args.find((arg) => arg.startsWith("--only="))?.slice(7).split(",");
const unknown = (only ?? []).filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(
    `Unknown bench ${unknown.join(", ")}: pick from ${Object.keys(BENCHES).join(", ")}`,
  );
  Deno.exit(2);
}

let failed = 0;
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only && !only.includes(name)) continue;
  console.log(`\n=== ${name} (bench/${bench.file}) ===`);
  const reason = bench.unavailable?.();
  if (reason !== undefined) {
    console.log(`=== ${name}: SKIPPED: ${reason}`);
    continue;
  }
  const started = performance.now();
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(bench.file, import.meta.url).pathname,
      ...bench.args(Deno.args),
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(
    `=== ${name}: ${status.success ? "done" : `failed (exit ${status.code})`} in ${seconds} s`,
  );
  if (!status.success) failed++;
}
if (failed > 0) Deno.exit(1);
