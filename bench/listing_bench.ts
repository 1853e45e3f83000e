/**
 * What parallel listing gains on a slow link, without a network: an in-memory store whose
 * every ListObjectsV2 request takes `--latency-ms` (default 100), listed by `listInOrder`
 *
 * - as one stream (no split points: the listing as it was),
 * - as ranges of 5,000 keys, 16 at once (split points kept from an earlier listing),
 * - as one range per top-level folder, 16 at once (a first run: split points from the
 *   folder names alone), with the default read-ahead of 8 pages per range and with 24.
 *
 * Goal: 16 ranges list 200,000 objects at least 8× faster than one stream. A miss prints
 * FAIL; the exit code stays 0 (benchmarks report, they do not fail CI).
 *
 * Usage: `deno run --allow-all bench/listing_bench.ts [--objects=200000,1000000]
 * [--latency-ms=100] [--folders=50]`
 *
 * @module
 */
import { listInOrder, splitPointsEvery, topFolderSplits } from "../lib/scan/listing.ts";
import { compareKeys } from "../lib/scan/key_order.ts";
import { MemoryStore, requestDelta } from "../lib/s3/memory_store.ts";
import type { OrderedListingOptions } from "../lib/scan/listing.ts";

const GOAL = 8;
const PREFIX = "nas/";

function arg(name: string, fallback: string): string {
  const found = Deno.args.find((value) => value.startsWith(`--${name}=`));
  return found === undefined ? fallback : found.slice(name.length + 3);
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer, not ${text}`);
    Deno.exit(2);
  }
  return value;
}

const sizes = arg("objects", "200000,1000000").split(",").map((text) => positive("objects", text));
const latencyMs = positive("latency-ms", arg("latency-ms", "100"));
const folderCount = positive("folders", arg("folders", "50"));

/** `count` keys spread over `folderCount` top-level folders of two levels each. */
function buildStore(count: number): { store: MemoryStore; keys: string[]; folders: string[] } {
  const store = new MemoryStore({ listLatencyMs: latencyMs });
  const folders = Array.from({ length: folderCount }, (_, i) => `album ${i}`);
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const folder = folders[i % folderCount]!;
    const key = `${PREFIX}${folder}/day-${(i >> 8) % 97}/IMG_${String(i).padStart(7, "0")}.jpg`;
    keys.push(key);
    store.put(key, { size: 1, lastModifiedMs: 0, etag: store.nextEtag() });
  }
  keys.sort(compareKeys);
  return { store, keys, folders };
}

async function timeListing(
  store: MemoryStore,
  expected: number,
  options: OrderedListingOptions,
): Promise<{ ms: number; requests: number }> {
  const before = store.requestCounts();
  const start = performance.now();
  let count = 0;
  for await (const page of listInOrder(store, PREFIX, options)) count += page.length;
  const ms = performance.now() - start;
  if (count !== expected) throw new Error(`listed ${count} objects, expected ${expected}`);
  return { ms, requests: requestDelta(before, store.requestCounts()).ListObjectsV2 ?? 0 };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

console.log(`ListObjectsV2 at ${latencyMs} ms per request, pages of 1000, in-memory store\n`);
for (const count of sizes) {
  const { store, keys, folders } = buildStore(count);
  // The store sorts its keys on the first listing: outside the timings.
  for await (const _ of store.list(PREFIX, { startAfter: keys.at(-1) })) break;
  const cases: Array<[string, OrderedListingOptions]> = [
    ["1 stream", {}],
    ["16 ranges of 5,000 keys", { splits: splitPointsEvery(keys, 5000), concurrency: 16 }],
    [
      `16 at once, ${folders.length} top folders`,
      { splits: topFolderSplits(PREFIX, folders), concurrency: 16 },
    ],
    // Folders longer than the read-ahead are fetched partly in sequence; more read-ahead
    // buys the speed back with memory (16 × 24 pages here).
    [
      `  same, pagesAhead 24`,
      { splits: topFolderSplits(PREFIX, folders), concurrency: 16, pagesAhead: 24 },
    ],
  ];
  console.log(`${count.toLocaleString("en")} objects`);
  let single = 0;
  for (const [name, options] of cases) {
    const { ms, requests } = await timeListing(store, count, options);
    single ||= ms;
    const ratio = single / ms;
    const verdict = name === "16 ranges of 5,000 keys" && count >= 200_000
      ? (ratio >= GOAL ? "  PASS" : "  FAIL") + ` (goal ≥ ${GOAL}×)`
      : "";
    console.log(
      `  ${name.padEnd(28)} ${seconds(ms).padStart(9)}  ${String(requests).padStart(5)} requests` +
        `  ${ratio.toFixed(1).padStart(5)}× faster${verdict}`,
    );
  }
  console.log();
}
