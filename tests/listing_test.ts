import assert from "node:assert/strict";
import { listInOrder, splitPointsEvery } from "../lib/scan/listing.ts";
import { relativeEntries } from "../lib/scan/remote_entries.ts";
import { OperationError } from "../lib/errors.ts";
import type { RemoteObject } from "../lib/s3/store.ts";
import {
  byteOrder,
  ListingProbe,
  nastyKeys,
  seededRandom,
  storeWith,
} from "./helpers/listing_probe.ts";

const PREFIX = "nas/";
/** Keys around the prefix that a listing of it must leave out. */
const OUTSIDE = ["na", "nas", "nas.", "nas-x/1", "nas0", "nat/1", "nas\u00e9/1", "zz"];
const KEYS = nastyKeys(PREFIX, 20_000);
const EXPECTED = [...KEYS].sort(byteOrder);

async function keysOf(pages: AsyncIterable<RemoteObject[]>, probe?: ListingProbe) {
  const keys: string[] = [];
  for await (const page of pages) {
    assert.ok(page.length > 0, "no empty pages");
    probe?.consumed(page.length);
    for (const object of page) keys.push(object.key);
  }
  return keys;
}

/** Split sets of every kind: existing keys, points between keys, duplicates, outsiders. */
function splitSets(): Array<{ name: string; splits: string[] }> {
  const random = seededRandom(7);
  const anyKey = () => EXPECTED[Math.floor(random() * EXPECTED.length)]!;
  const sets = [{ name: "none", splits: [] as string[] }];
  for (let trial = 0; trial < 4; trial++) {
    const splits: string[] = [];
    const count = 1 + Math.floor(random() * 40);
    for (let i = 0; i < count; i++) {
      const key = anyKey();
      const kind = Math.floor(random() * 5);
      if (kind === 0) splits.push(key); // an existing key
      else if (kind === 1) splits.push(key + "\u0000"); // just after a key
      else if (kind === 2) splits.push(key.slice(0, -1)); // just before, maybe not a key
      else if (kind === 3) splits.push(key, key); // duplicates
      else splits.push(OUTSIDE[Math.floor(random() * OUTSIDE.length)]!);
    }
    sets.push({ name: `random set ${trial} (${splits.length} points)`, splits });
  }
  sets.push({ name: "the prefix and the first key", splits: [PREFIX, EXPECTED[0]!] });
  sets.push({ name: "the last key", splits: [EXPECTED.at(-1)!] });
  sets.push({
    name: "every 700th key, reversed",
    splits: splitPointsEvery(EXPECTED, 700).reverse(),
  });
  return sets;
}

/** The ranges listInOrder makes of `splits`, counted independently of its code. */
function rangeCount(splits: string[]): number {
  const inside = new Set(splits.filter((s) => s.startsWith(PREFIX) && s !== PREFIX));
  return inside.size + 1;
}

Deno.test("listInOrder() lists 20,000 nasty keys once each, in S3 order, for any split set", async () => {
  const store = storeWith([...KEYS, ...OUTSIDE]);
  for (const { name, splits } of splitSets()) {
    for (const concurrency of [1, 4, 16]) {
      const probe = new ListingProbe(store);
      const keys = await keysOf(listInOrder(probe.store, PREFIX, { splits, concurrency }), probe);
      assert.deepEqual(keys, EXPECTED, `${name}, concurrency ${concurrency}`);
      const ranges = rangeCount(splits);
      assert.equal(probe.stats.starts.length, ranges, `${name}: one stream per range`);
      // Each range reads its own pages and at most the one page that crosses its end.
      assert.ok(
        probe.stats.requests <= Math.floor(KEYS.length / 1000) + ranges,
        `${name}, concurrency ${concurrency}: ${probe.stats.requests} requests for ${ranges} ranges`,
      );
      assert.ok(probe.stats.maxInFlight <= concurrency);
    }
  }
});

Deno.test("listInOrder() with split points at every 5,000th key reads each object exactly once", async () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `p/${String(i).padStart(6, "0")}`);
  const probe = new ListingProbe(storeWith(keys));
  const splits = splitPointsEvery(keys, 5000);
  assert.equal(splits.length, 4);
  assert.deepEqual(await keysOf(listInOrder(probe.store, "p/", { splits })), keys);
  // 4 ranges of 5 pages, each ending on its split point, and the empty range after it.
  assert.equal(probe.stats.requests, 21);
  assert.equal(probe.stats.fetched, 20_000);
});

Deno.test("listInOrder() keeps the concurrency it is given, and no more", async () => {
  const keys = Array.from({ length: 32_000 }, (_, i) => `p/${String(i).padStart(6, "0")}`);
  const store = storeWith(keys, { listLatencyMs: 20 });
  const splits = splitPointsEvery(keys, 2000);
  for (const concurrency of [1, 4, 16]) {
    const probe = new ListingProbe(store);
    await keysOf(listInOrder(probe.store, "p/", { splits, concurrency }));
    assert.equal(probe.stats.maxInFlight, concurrency);
  }
  const single = new ListingProbe(store);
  await keysOf(listInOrder(single.store, "p/"));
  assert.equal(single.stats.maxInFlight, 1, "no split points: one sequential stream");
  assert.deepEqual(single.stats.starts, [undefined]);
});

Deno.test("listInOrder() pauses for a slow consumer: buffered objects stay within the window", async () => {
  const keys = Array.from({ length: 200_000 }, (_, i) => `p/${String(i).padStart(7, "0")}`);
  const store = storeWith(keys);
  const slowly = async (probe: ListingProbe, splits: string[], pagesAhead?: number) => {
    const pages = listInOrder(probe.store, "p/", { splits, concurrency: 16, pagesAhead });
    let count = 0;
    for await (const page of pages) {
      probe.consumed(page.length);
      count += page.length;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(count, keys.length);
    return probe.stats;
  };
  // "Unconsumed" includes the page on its way to the consumer.
  const page = 1000;
  // 40 ranges of 5,000 keys: at most 16 ranges of 5 pages are held.
  const ranged = await slowly(new ListingProbe(store), splitPointsEvery(keys, 5000));
  assert.ok(ranged.maxUnconsumed <= 16 * 5000 + page, `${ranged.maxUnconsumed} buffered`);
  assert.ok(ranged.maxUnconsumed >= 15 * 5000, "the window fills while the consumer is slow");
  // Ranges larger than the read-ahead: each holds at most pagesAhead pages.
  const capped = await slowly(new ListingProbe(store), splitPointsEvery(keys, 50_000), 2);
  assert.ok(capped.maxUnconsumed <= 4 * 2 * 1000 + page, `${capped.maxUnconsumed} buffered`);
  // One stream: only its read-ahead (8 pages by default).
  const single = await slowly(new ListingProbe(store), []);
  assert.ok(single.maxUnconsumed <= 8 * 1000 + page, `${single.maxUnconsumed} buffered`);
});

Deno.test("listInOrder() rejects with the first error and stops every range", async () => {
  const keys = Array.from({ length: 40_000 }, (_, i) => `p/${String(i).padStart(6, "0")}`);
  const store = storeWith(keys, { listLatencyMs: 5 });
  const splits = splitPointsEvery(keys, 2000);
  const failure = new Error("SlowDown: Please reduce your request rate.");
  // A range ahead of the consumer fails at once.
  const probe = new ListingProbe(
    store,
    (_n, startAfter) => startAfter === splits[9] ? failure : undefined,
  );
  let seen = 0;
  await assert.rejects(async () => {
    for await (const page of listInOrder(probe.store, "p/", { splits, concurrency: 16 })) {
      seen += page.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, (error) => error === failure);
  assert.ok(seen < keys.length, "the error surfaced before the listing reached that range");
  assert.equal(probe.stats.inFlight, 0, "no request is left in flight");
  const requests = probe.stats.requests;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(probe.stats.requests, requests, "no request after the error");
});

Deno.test("listInOrder() rejects when the store cannot even start a listing", async () => {
  const failure = new Error("Cannot list: no credentials");
  const inner = storeWith(["p/a", "p/b"]);
  const broken = new Proxy(inner, {
    get: (target, name, receiver) =>
      name === "list"
        ? (prefix: string, options?: { startAfter?: string }) => {
          if (options?.startAfter !== undefined) throw failure;
          return target.list(prefix, options);
        }
        : Reflect.get(target, name, receiver),
  });
  await assert.rejects(
    keysOf(listInOrder(broken, "p/", { splits: ["p/a"] })),
    (e) => e === failure,
  );
});

Deno.test("listInOrder() stops fetching when the consumer leaves the loop", async () => {
  const keys = Array.from({ length: 40_000 }, (_, i) => `p/${String(i).padStart(6, "0")}`);
  const probe = new ListingProbe(storeWith(keys, { listLatencyMs: 5 }));
  const splits = splitPointsEvery(keys, 2000);
  for await (const _page of listInOrder(probe.store, "p/", { splits, concurrency: 4 })) break;
  assert.equal(probe.stats.inFlight, 0, "leaving the loop waits for the requests in flight");
  const requests = probe.stats.requests;
  assert.ok(requests <= 4 * 2, `${requests} requests`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(probe.stats.requests, requests, "no request after the loop was left");
});

Deno.test("listInOrder() refuses a concurrency or read-ahead that is not a positive integer", () => {
  const store = storeWith([]);
  assert.throws(() => listInOrder(store, "", { concurrency: 0 }), RangeError);
  assert.throws(() => listInOrder(store, "", { pagesAhead: 1.5 }), RangeError);
});

Deno.test("listInOrder() of an empty prefix yields nothing", async () => {
  const probe = new ListingProbe(storeWith(["a", "c"]));
  assert.deepEqual(await keysOf(listInOrder(probe.store, "b/", { splits: ["b/x"] })), []);
  assert.equal(probe.stats.requests, 2, "one request per range");
});

Deno.test("the listing as the planner reads it: relative keys, no folder placeholders, S3's order enforced", async () => {
  const object = (key: string): RemoteObject => ({ key, size: 1, lastModifiedMs: 0 });
  const read = async (pages: RemoteObject[][]) => {
    const keys: string[] = [];
    for await (const page of relativeEntries(pages, "p/")) keys.push(...page.map((e) => e.key));
    return keys;
  };
  assert.deepEqual(
    await read([[object("p/"), object("p/a"), object("p/dir/")], [object("p/é"), object("p/😀")]]),
    ["a", "é", "😀"],
  );
  // "ｚ" (U+FF5A) sorts after "😀" (U+1F600, a surrogate pair) in UTF-16 but before it in
  // UTF-8: a server listing in UTF-16 order (or any other) is refused before the plan
  // trusts it.
  await assert.rejects(
    read([[object("p/a"), object("p/😀")], [object("p/ｚ")]]),
    (error: Error) =>
      error instanceof OperationError && /listed "p\/ｚ" after "p\/😀"/.test(error.message) &&
      /Nothing was changed/.test(error.message),
  );
  await assert.rejects(read([[object("p/a"), object("p/a")]]), OperationError, "a key twice");
});
