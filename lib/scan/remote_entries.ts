/**
 * The listing as the planner reads it: keys relative to the prefix, and without folder
 * placeholder objects ("photos/", made by consoles and some tools), which are no files.
 * The merge relies on S3's key order (UTF-8 bytes); a listing out of that order would
 * make keys look unmatched (and deletable), so it stops the run instead.
 *
 * @module
 */
import { OperationError } from "../errors.ts";
import type { ListedEntry } from "../model.ts";
import type { RemoteObject } from "../s3/store.ts";
import { compareKeys } from "./key_order.ts";

/**
 * Turns pages of listed objects (full keys) into pages of {@linkcode ListedEntry}.
 *
 * @throws {OperationError} when a key does not come after the one before it in S3 key
 * order (a server that lists in another order): the run stops before anything is changed.
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
  let previous: string | undefined;
  for await (const page of pages) {
    const entries: ListedEntry[] = [];
    for (const object of page) {
      if (previous !== undefined && compareKeys(previous, object.key) >= 0) {
        throw new OperationError(
          `The server listed "${object.key}" after "${previous}": not in S3's key order ` +
            `(UTF-8 bytes), which s3-smart-sync needs to compare the bucket with the folder. ` +
            `Nothing was changed.`,
        );
      }
      previous = object.key;
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
