/**
 * Exclude patterns with the semantics of `aws s3 sync --exclude`: each pattern is an
 * fnmatch pattern matched against the whole path relative to the synced directory
 * (or the key relative to the prefix); `*` also matches "/".
 *
 * @module
 */
import { STATE_DB_NAME } from "../model.ts";

/**
 * Patterns that are always excluded: the state DB, its SQLite side files (-wal, -shm,
 * -journal) and its lock files (.lock-…), in the root and in any folder (a directory
 * synced on its own, nested in this one). They are never uploaded and never deleted.
 */
export const ALWAYS_EXCLUDED: readonly string[] = [`${STATE_DB_NAME}*`, `*/${STATE_DB_NAME}*`];

/**
 * Translates one fnmatch pattern (`*`, `?`, `[seq]`, `[!seq]`) to a regular expression
 * anchored at both ends, as Python's `fnmatch.translate` does.
 *
 * @example
 * ```ts
 * globToRegExp("*.tmp").test("a/b.tmp"); // true: "*" matches "/"
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") {
      source += "[\\s\\S]*";
    } else if (char === "?") {
      source += "[\\s\\S]";
    } else if (char === "[") {
      let j = i + 1;
      if (pattern[j] === "!") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j++;
      if (j >= pattern.length) {
        source += "\\[";
      } else {
        let set = pattern.slice(i + 1, j).replace(/\\/g, "\\\\").replace(/[[\]]/g, "\\$&");
        if (set.startsWith("!")) set = "^" + set.slice(1);
        else if (set.startsWith("^")) set = "\\" + set;
        source += `[${set}]`;
        i = j;
      }
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "u");
}

/** Decides whether a relative path (or key) is excluded. */
export type PathFilter = (relativePath: string) => boolean;

/**
 * Builds a predicate that is true for excluded paths: the given patterns plus
 * {@linkcode ALWAYS_EXCLUDED}. A leading "./" or "/" in a pattern is ignored, since
 * patterns are relative to the synced directory.
 *
 * @example
 * ```ts
 * const excluded = excluder(["*.tmp", "@eaDir/*"]);
 * excluded("@eaDir/thumb.jpg"); // true
 * ```
 */
export function excluder(patterns: readonly string[]): PathFilter {
  const expressions = patterns.map((pattern) => globToRegExp(pattern.replace(/^\.?\/+/, "")));
  // Every always-excluded name contains STATE_DB_NAME: test that substring first, as
  // this runs for every file, key and row of every run.
  const always = ALWAYS_EXCLUDED.map((pattern) => globToRegExp(pattern));
  return (relativePath) =>
    (relativePath.includes(STATE_DB_NAME) &&
      always.some((expression) => expression.test(relativePath))) ||
    expressions.some((expression) => expression.test(relativePath));
}

/**
 * Splits items into kept and excluded ones, by a path taken from each.
 *
 * @example
 * ```ts
 * const files = [{ path: "a.jpg" }, { path: "b/c.tmp" }];
 * const { kept } = filter(files, { isExcluded: excluder(["*.tmp"]), pathOf: (file) => file.path });
 * // kept: [{ path: "a.jpg" }]
 * ```
 */
export function filter<T>(
  items: readonly T[],
  options: { isExcluded: PathFilter; pathOf: (item: T) => string },
): { kept: T[]; excluded: T[] } {
  const { isExcluded, pathOf } = options;
  const kept: T[] = [];
  const excluded: T[] = [];
  for (const item of items) (isExcluded(pathOf(item)) ? excluded : kept).push(item);
  return { kept, excluded };
}
