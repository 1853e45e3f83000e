/**
 * The order in which S3 lists keys: by the UTF-8 bytes of the key, which is Unicode code
 * point order. JavaScript's `<` and `Array.prototype.sort` compare UTF-16 code units
 * instead, and the two disagree when a character above U+FFFF (stored as a surrogate
 * pair, D800–DFFF) meets one in U+E000–U+FFFF: "😀" (U+1F600) comes after "\uE000" in
 * S3 but before it in UTF-16.
 *
 * @module
 */

/** Code units at which UTF-16 order and code point order can part. */
const HIGH_UNITS = /[\uD800-\uFFFF]/;

/**
 * Compares two keys as S3 orders them (by their UTF-8 bytes): negative when `a` comes
 * first, positive when `b` does, 0 when they are equal. Usable as a sort comparator.
 *
 * @param a a key (a well-formed string: no lone surrogates).
 * @param b another key.
 * @returns a negative number, 0 or a positive number.
 *
 * @example
 * ```ts
 * compareKeys("a.txt", "a/") < 0; // true: "." (0x2E) is before "/" (0x2F)
 * compareKeys("\uE000", "😀") < 0; // true, though "\uE000" > "😀" in JavaScript
 * ["😀", "\uE000"].sort(compareKeys); // ["\uE000", "😀"]
 * ```
 */
export function compareKeys(a: string, b: string): number {
  // Merging unchanged trees compares equal keys most of the time.
  if (a === b) return 0;
  // The orders can only differ where both units at the first difference are at least
  // U+D800; when either key has none (nearly always), JavaScript's own comparison, which
  // is native and several times faster than a loop over long paths, gives the answer.
  if (!HIGH_UNITS.test(a) || !HIGH_UNITS.test(b)) return a < b ? -1 : 1;
  const length = a.length < b.length ? a.length : b.length;
  for (let index = 0; index < length; index++) {
    const unitA = a.charCodeAt(index);
    const unitB = b.charCodeAt(index);
    if (unitA !== unitB) {
      if (unitA >= 0xd800 && unitB >= 0xd800) return codePointRank(unitA) - codePointRank(unitB);
      return unitA - unitB;
    }
  }
  return a.length - b.length;
}

/**
 * Moves surrogates (characters above U+FFFF) after U+E000–U+FFFF, where code point order
 * puts them; used only for units of at least U+D800.
 */
function codePointRank(unit: number): number {
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/**
 * Sorts `keys` in place in S3 key order and returns the same array.
 *
 * @param keys the keys to sort.
 * @returns `keys`, sorted.
 *
 * @example
 * ```ts
 * sortKeys(["b", "😀", "a/c", "\uE000", "a.txt"]); // ["a.txt", "a/c", "b", "\uE000", "😀"]
 * ```
 */
export function sortKeys(keys: string[]): string[] {
  return keys.sort(compareKeys);
}
