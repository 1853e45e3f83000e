import assert from "node:assert/strict";
import { listInOrder, splitPointsEvery, topFolderSplits } from "../lib/scan/listing.ts";
import { compareKeys } from "../lib/scan/key_order.ts";
import { byteOrder, NASTY_PARTS, seededRandom, storeWith } from "./helpers/listing_probe.ts";

const sign = (value: number) => Math.sign(value);

Deno.test("compareKeys() orders keys by their UTF-8 bytes", () => {
  const random = seededRandom(3);
  const alphabet = ["a", "/", "-", ".", "0", " ", "\u007f", "é", "\uE000", "\uFFFD", "😀", "𝄞"];
  const word = () =>
    Array.from(
      { length: Math.floor(random() * 4) },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join("");
  for (let i = 0; i < 20_000; i++) {
    const [a, b] = [word(), word()];
    assert.equal(sign(compareKeys(a, b)), sign(byteOrder(a, b)), JSON.stringify([a, b]));
  }
  assert.ok(compareKeys("\uFFFD", "😀") < 0, "U+FFFD before U+1F600, unlike UTF-16");
});

Deno.test("MemoryStore.list() starts after a key, in byte order, in pages of 1000", async () => {
  const keys = Array.from({ length: 2500 }, (_, i) => `p/${String(i).padStart(4, "0")}`);
  const store = storeWith([...keys, "p/\uFFFD", "p/😀", "o", "q"]);
  const list = async (startAfter?: string) =>
    (await Array.fromAsync(store.list("p/", { startAfter }))).map((page) => page.map((o) => o.key));
  const all = await list();
  assert.deepEqual(all.map((page) => page.length), [1000, 1000, 502]);
  assert.deepEqual(all.flat().slice(-2), ["p/\uFFFD", "p/😀"]);
  assert.deepEqual((await list("p/2497")).flat(), ["p/2498", "p/2499", "p/\uFFFD", "p/😀"]);
  assert.deepEqual((await list("p/2497x")).flat(), ["p/2498", "p/2499", "p/\uFFFD", "p/😀"]);
  assert.deepEqual((await list("p/\uFFFD")).flat(), ["p/😀"]);
  assert.deepEqual((await list("a")).flat().length, 2502, "a start before the prefix");
  assert.deepEqual(await list("p/😀"), [[]], "after the last key: one empty page");
  assert.deepEqual(await list("q"), [[]], "a start after the prefix");
  assert.equal(store.requestCounts().ListObjectsV2, 3 + 1 + 1 + 1 + 3 + 1 + 1);
});

Deno.test("MemoryStore.list() continues after the last key it listed, as S3 does", async () => {
  const keys = Array.from({ length: 1500 }, (_, i) => `p/${String(i).padStart(4, "0")}`);
  const store = storeWith(keys);
  const listed: string[] = [];
  for await (const page of store.list("p/")) {
    listed.push(...page.map((o) => o.key));
    // Changes between pages: a key before the position and one after it.
    store.put("p/0000a", { size: 1, lastModifiedMs: 0, etag: store.nextEtag() });
    store.put("p/1499a", { size: 1, lastModifiedMs: 0, etag: store.nextEtag() });
  }
  assert.deepEqual(listed, [...keys, "p/1499a"]);
});

Deno.test("splitPointsEvery() takes every Nth key", () => {
  assert.deepEqual(splitPointsEvery(["a", "b", "c", "d", "e"], 2), ["b", "d"]);
  assert.deepEqual(splitPointsEvery(["a", "b"], 5), []);
  assert.throws(() => splitPointsEvery([], 0), RangeError);
});

/** Index of the range (s_{i-1}, s_i] holding `key`, with splits in key order. */
function rangeOf(key: string, splits: string[]): number {
  const index = splits.findIndex((split) => byteOrder(key, split) <= 0);
  return index === -1 ? splits.length : index;
}

/** Keys of a tree with folders `names`, their own files and files named like them. */
function treeKeys(
  prefix: string,
  names: string[],
): { folders: Map<string, string[]>; all: string[] } {
  const folders = new Map<string, string[]>();
  const all: string[] = [];
  const children = ["", "x", "\u0001", "\uFFFF", "😀/deep", "a/b/c", " ", "~"];
  for (const name of names) {
    const keys = children.map((child) => `${prefix}${name}/${child}`);
    folders.set(name, keys);
    // Files next to the folder whose names start like it.
    all.push(
      ...keys,
      prefix + name,
      prefix + name + "0",
      prefix + name + ".txt",
      prefix + name + "-",
    );
  }
  return { folders, all: [...new Set(all)] };
}

function assertFoldersWhole(prefix: string, names: string[], splits: string[]): void {
  const { folders } = treeKeys(prefix, names);
  for (const [name, keys] of folders) {
    const ranges = new Set(keys.map((key) => rangeOf(key, splits)));
    assert.equal(ranges.size, 1, `folder ${JSON.stringify(name)} spans ranges ${[...ranges]}`);
  }
}

Deno.test("topFolderSplits() keeps each folder whole in one range, whatever the names", async () => {
  const prefix = "nas/";
  const names = [
    "a",
    "a-b",
    "a.b",
    "a b",
    "a0",
    "a0x",
    "a!",
    "ab",
    "a-",
    "-",
    "0",
    "é",
    "😀",
    "\uFFFD",
  ];
  const splits = topFolderSplits(prefix, [...names, "a", "", "x/y"]);
  assert.equal(splits.length, names.length - 1, "one point between each two folders");
  assert.deepEqual(splits, [...splits].sort(byteOrder));
  assertFoldersWhole(prefix, names, splits);
  const folderOfRange = names.map((name) => rangeOf(`${prefix}${name}/x`, splits));
  assert.equal(new Set(folderOfRange).size, names.length, "one folder per range");
  assert.deepEqual(topFolderSplits("", ["b", "a", "a-b"]), ["a-b0", "a0"]);

  const { all } = treeKeys(prefix, names);
  const store = storeWith(all);
  const listed = [];
  for await (const page of listInOrder(store, prefix, { splits })) listed.push(...page);
  assert.deepEqual(listed.map((o) => o.key), all.sort(byteOrder));
});

Deno.test("topFolderSplits() keeps random folders whole, and caps the number of ranges", () => {
  const random = seededRandom(11);
  const parts = [...NASTY_PARTS, "\u0001", "/", "0", "-"];
  for (let trial = 0; trial < 200; trial++) {
    const names = Array.from(
      { length: 1 + Math.floor(random() * 30) },
      () =>
        Array.from(
          { length: 1 + Math.floor(random() * 3) },
          () => parts[Math.floor(random() * parts.length)],
        ).join(""),
    ).filter((name) => !name.includes("/"));
    const maxSplits = Math.floor(random() * 10);
    const splits = topFolderSplits("p/", names, { maxSplits });
    assert.ok(splits.length <= maxSplits);
    assert.ok(splits.length <= Math.max(0, new Set(names).size - 1));
    assertFoldersWhole("p/", names, splits);
  }
});
