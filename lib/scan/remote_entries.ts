/**
 * The listing as the planner reads it: keys relative to the prefix, and without folder
 * placeholder objects ("photos/", made by consoles and some tools), which are no files.
 *
 * @module
 */
import type { ListedEntry } from "../model.ts";
import type { RemoteObject } from "../s3/store.ts";

/**
 * Turns pages of listed objects (full keys) into pages of {@linkcode ListedEntry}.
 *
 * @example
 * ```ts
 * const pages = [[{ key: "p/a.jpg", size: 3, lastModifiedMs: 0 }, { key: "p/dir/", size: 0, lastModifiedMs: 0 }]];
 * for await (const page of relativeEntries(pages, "p/")) console.log(page.map((entry) => entry.key)); // ["a.jpg"]
 * ```
 */
export async function* relativeEntries(
  pages: AsyncIterable<RemoteObject[]> | Iterable<RemoteObject[]>,
  prefix: string,
): AsyncIterable<ListedEntry[]> {
  for await (const page of pages) {
    const entries: ListedEntry[] = [];
    for (const object of page) {
      const key = object.key.slice(prefix.length);
      if (key === "" || key.endsWith("/")) continue;
      const entry: ListedEntry = { key, size: object.size, lastModifiedMs: object.lastModifiedMs };
      if (object.etag !== undefined) entry.etag = object.etag;
      if (object.storageClass !== undefined) entry.storageClass = object.storageClass;
      entries.push(entry);
    }
    if (entries.length > 0) yield entries;
  }
}
