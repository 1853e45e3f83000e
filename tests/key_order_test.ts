import assert from "node:assert/strict";
import { compareKeys, sortKeys } from "../lib/scan/key_order.ts";
// The reference: S3 compares keys as their UTF-8 bytes.
import { byteOrder as compareBytes, seededRandom as random } from "./helpers/listing_probe.ts";

/** Code point ranges to draw characters from: where the two orders can disagree. */
const RANGES: Array<[number, number]> = [
  [0x20, 0x7e], // ASCII, "/", "-", "."
  [0x20, 0x7e],
  [0xa0, 0x2ff], // Latin
  [0x3040, 0x30ff], // kana
  [0x4e00, 0x4e20], // CJK
  [0xd7f0, 0xd7ff], // just below the surrogates
  [0xe000, 0xe010], // private use, just above them
  [0xfff0, 0xfffd], // the top of the BMP
  [0x10000, 0x10010], // just above the BMP
  [0x1f300, 0x1f64f], // emoji
  [0x10fff0, 0x10ffff], // the last code points
];

function randomKey(next: () => number): string {
  const length = Math.floor(next() * 6);
  let key = "";
  for (let index = 0; index < length; index++) {
    const [low, high] = RANGES[Math.floor(next() * RANGES.length)]!;
    key += String.fromCodePoint(low + Math.floor(next() * (high - low + 1)));
  }
  return key;
}

Deno.test("compareKeys() agrees with comparing UTF-8 bytes on 200,000 random pairs", () => {
  const next = random(20_260_101);
  let disagreementsOfUtf16 = 0;
  for (let round = 0; round < 200_000; round++) {
    const a = randomKey(next);
    // Often share a prefix, so that the first difference falls anywhere.
    const b = next() < 0.5
      ? a.slice(0, Math.floor(next() * (a.length + 1))) + randomKey(next)
      : randomKey(next);
    const expected = Math.sign(compareBytes(a, b));
    assert.equal(
      Math.sign(compareKeys(a, b)),
      expected,
      `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
    assert.equal(Math.sign(compareKeys(b, a)), expected === 0 ? 0 : -expected);
    if ((a < b ? -1 : a > b ? 1 : 0) !== expected) disagreementsOfUtf16++;
  }
  // The test would prove little if JavaScript's own order never differed.
  assert.ok(disagreementsOfUtf16 > 1000, `only ${disagreementsOfUtf16} pairs where UTF-16 differs`);
});

Deno.test("sortKeys() sorts random keys exactly as their UTF-8 bytes sort", () => {
  const next = random(7);
  const keys = Array.from({ length: 5000 }, () => randomKey(next));
  const expected = [...keys].sort(compareBytes);
  assert.deepEqual(sortKeys([...keys]), expected);
});

Deno.test("compareKeys() puts U+E000 and U+FFFD before an emoji, unlike JavaScript's <", () => {
  assert.ok("😀" < "\uE000"); // UTF-16: the surrogate D83D is below E000
  assert.ok(compareKeys("\uE000", "😀") < 0);
  assert.ok(compareKeys("\uFFFD.jpg", "📷.jpg") < 0);
  assert.ok(compareKeys("x/\uFFFF", "x/\u{10000}") < 0);
  assert.ok(compareKeys("\u{1F600}", "\u{1F601}") < 0); // same high surrogate
});

Deno.test("compareKeys() orders '/' as S3 does: 'a.txt' < 'a/' < 'a0'", () => {
  assert.deepEqual(sortKeys(["a0", "a/", "a.txt", "a-", "a", "A", "a b"]), [
    "A",
    "a",
    "a b",
    "a-",
    "a.txt",
    "a/",
    "a0",
  ]);
});

Deno.test("compareKeys() returns 0 for equal keys and orders a prefix first", () => {
  assert.equal(compareKeys("", ""), 0);
  assert.equal(compareKeys("日本/😀", "日本/😀"), 0);
  assert.ok(compareKeys("", "a") < 0);
  assert.ok(compareKeys("photos", "photos/") < 0);
  assert.ok(compareKeys("😀", "😀a") < 0);
});

Deno.test("sortKeys() sorts in place and returns the same array", () => {
  const keys = ["b", "a"];
  assert.equal(sortKeys(keys), keys);
  assert.deepEqual(keys, ["a", "b"]);
});
