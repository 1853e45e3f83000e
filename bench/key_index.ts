/**
 * The objects a bench S3 server lists: keys with their sizes, sorted in S3 order (by the
 * UTF-8 bytes of the key), searchable in O(log n).
 *
 * @module
 */

const NEEDS_REMAP = /[\uD800-\uFFFF]/;

/**
 * A string whose UTF-16 order (JavaScript's `<`) is the UTF-8 byte order of `key`.
 *
 * UTF-16 code units order code points correctly except that surrogates (U+D800–U+DFFF,
 * which encode everything above U+FFFF) sort below U+E000–U+FFFF, while in UTF-8 (and
 * code point order) they sort above. Moving U+E000–U+FFFF down by 0x800 and the
 * surrogates up by 0x2000 fixes that; keys without such code units are returned as is.
 */
export function s3OrderKey(key: string): string {
  if (!NEEDS_REMAP.test(key)) return key;
  let out = "";
  for (let index = 0; index < key.length; index++) {
    const unit = key.charCodeAt(index);
    out += String.fromCharCode(
      unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit,
    );
  }
  return out;
}

/** Compares two keys by their UTF-8 bytes, as S3 orders them. */
export function compareS3(a: string, b: string): number {
  const x = s3OrderKey(a);
  const y = s3OrderKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** One listed object. */
export interface IndexedObject {
  /** Full key. */
  key: string;
  /** Size in bytes. */
  size: number;
}

/** Objects sorted in S3 order; searches by key run in O(log n). */
export class KeyIndex {
  /** The keys, in S3 order. */
  readonly keys: string[];
  /** Sizes, parallel to {@linkcode KeyIndex.keys}. */
  readonly sizes: number[];
  readonly #order: string[];

  /** Sorts `objects` (any order) into an index. */
  constructor(objects: IndexedObject[]) {
    const rows = objects.map((object) => ({ order: s3OrderKey(object.key), object }));
    rows.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    this.keys = rows.map((row) => row.object.key);
    this.sizes = rows.map((row) => row.object.size);
    this.#order = rows.map((row) => row.order);
  }

  /** Number of objects. */
  get length(): number {
    return this.keys.length;
  }

  /** First index whose key sorts at or after `key` (after it when `strict`). */
  #bound(key: string, strict: boolean): number {
    const target = s3OrderKey(key);
    const order = this.#order;
    let low = 0;
    let high = order.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const here = order[middle]!;
      if (here < target || (strict && here === target)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** First index whose key is ≥ `key` in S3 order. */
  lowerBound(key: string): number {
    return this.#bound(key, false);
  }

  /** First index whose key is > `key` in S3 order. */
  upperBound(key: string): number {
    return this.#bound(key, true);
  }

  /**
   * First index at or after `from` whose key does not start with `prefix`, given that
   * the key at `from` does (keys sharing a prefix are contiguous in any lexicographic order).
   */
  endOfPrefix(prefix: string, from: number): number {
    let low = from;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keys[middle]!.startsWith(prefix)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * Walks `root` with `find` (symlinks are not followed and not listed; state DB files
 * `.s3-smart-sync.db*` are skipped) and returns `prefix + relative path` with sizes.
 */
export async function walkTree(root: string, prefix: string): Promise<IndexedObject[]> {
  const output = await new Deno.Command("find", {
    args: [root, "-type", "f", "!", "-name", ".s3-smart-sync.db*", "-printf", "%s %P\\0"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`find ${root} failed`);
  const text = new TextDecoder().decode(output.stdout);
  const objects: IndexedObject[] = [];
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf("\0", start);
    const space = text.indexOf(" ", start);
    objects.push({
      key: prefix + text.slice(space + 1, end),
      size: Number(text.slice(start, space)),
    });
    start = end + 1;
  }
  return objects;
}
