/**
 * One directory's entries in S3 key order, which is what lets the walk yield a whole
 * tree in key order while holding only the directories on its current path.
 *
 * @module
 */
import { compareKeys } from "./key_order.ts";
import type { FileStat, ScanFs } from "./scan_fs.ts";

/**
 * What an entry is, as the directory listing says: `invalid name` is a name that is not
 * UTF-8, as the reader knows it, or as a second entry whose name was decoded to the same
 * string as another's shows it (`Deno.readDirSync` reads such names lossily, with U+FFFD,
 * so the second cannot be told apart or opened).
 */
export type EntryType = "directory" | "file" | "symlink" | "special" | "invalid name";

/** An entry of a directory, with the key it sorts by. */
export interface SortedEntry {
  /** Its name, as Deno gives it. */
  name: string;
  /** The name, with "/" appended for a directory: its key relative to the directory. */
  key: string;
  /** What it is. */
  type: EntryType;
  /** A file's lstat, where the reader took it with the folder. */
  stat?: FileStat;
}

/**
 * Reads the directory at `path` and returns its entries sorted by key (the name, with "/"
 * appended to directories) in S3 key order: file "a.txt" comes before folder "a/", and
 * folder "a/" before file "a0", just as the keys "a.txt", "a/…" and "a0" do in a listing.
 *
 * @param fs the file system.
 * @param path the directory.
 * @returns the entries, sorted.
 * @throws what `fs.readDir` throws (`Deno.errors.NotFound`, `PermissionDenied`, …).
 *
 * @example
 * ```ts
 * import { systemFs } from "./system_fs.ts";
 *
 * for (const entry of readSortedEntries(systemFs, "/etc")) console.log(entry.key);
 * ```
 */
export function readSortedEntries(fs: ScanFs, path: string): SortedEntry[] {
  const entries: SortedEntry[] = [];
  for (const { name, isDirectory, isFile, isSymlink, stat, notUtf8 } of fs.readDir(path)) {
    const type = notUtf8
      ? "invalid name"
      : isDirectory
      ? "directory"
      : isFile
      ? "file"
      : isSymlink
      ? "symlink"
      : "special";
    const entry: SortedEntry = { name, key: isDirectory ? name + "/" : name, type };
    if (stat !== undefined) entry.stat = stat;
    entries.push(entry);
  }
  entries.sort(byKey);
  for (let index = 1; index < entries.length; index++) {
    const entry = entries[index]!;
    const previous = entries[index - 1]!;
    // Where the reader flagged one of the two, the other is the name it looks like.
    if (entry.key === previous.key && previous.type !== "invalid name") {
      entry.type = "invalid name";
    }
  }
  return entries;
}

function byKey(a: SortedEntry, b: SortedEntry): number {
  return compareKeys(a.key, b.key);
}
