/**
 * Walks a local directory tree and returns what is there. It makes no decisions:
 * excluding files is {@linkcode filter}'s job, planning is `plan`'s.
 *
 * @module
 */
import { type LocalFile, type SkippedEntry } from "../model.ts";
import { exists, withSlash } from "../fs.ts";

/** What {@linkcode scan} found. */
export interface ScanResult {
  /** Regular files, in no particular order. */
  files: LocalFile[];
  /** Entries that are not regular files or could not be read. */
  skipped: SkippedEntry[];
  /** Device number of the root directory itself. */
  rootDev: number;
  /** How many directories were read. */
  directories: number;
}

/**
 * Walks `root` with Deno's synchronous directory and stat calls (an async `lstat` per
 * file measured about twelve times slower). Symbolic links are not followed, and
 * FIFOs, sockets and devices are skipped; unreadable directories are reported in
 * `skipped` and the walk goes on. Files that vanish during the walk are left out.
 *
 * @param root an existing directory.
 * @throws {Deno.errors.NotFound} when `root` does not exist.
 *
 * @example
 * ```ts
 * const { files } = scan("/volume1/photos");
 * console.log(files.length);
 * ```
 */
export function scan(root: string): ScanResult {
  const base = withSlash(root);
  const rootInfo = Deno.statSync(root);
  const files: LocalFile[] = [];
  const skipped: SkippedEntry[] = [];
  const pending: string[] = [""];
  let directories = 0;
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: Iterable<Deno.DirEntry>;
    try {
      // Materialise here so that an error while reading is attributed to this directory.
      entries = Array.from(Deno.readDirSync(dir === "" ? root : base + dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        // Renamed or deleted while the walk went on: what was in it is unknown this run.
        skipped.push({
          path: dir,
          kind: "vanished",
          reason: "folder renamed or deleted during the scan; the next run sees it",
        });
        continue;
      }
      skipped.push({
        path: dir,
        kind: "unreadable",
        reason: `cannot read directory: ${(error as Error).message}`,
      });
      continue;
    }
    directories++;
    for (const entry of entries) {
      const path = dir === "" ? entry.name : dir + "/" + entry.name;
      if (entry.isDirectory) {
        if (entry.name.includes("\uFFFD") && !exists(base + path)) {
          // Read lossily by Deno: the folder cannot be opened under this name.
          skipped.push({
            path,
            kind: "invalid name",
            reason:
              "this folder's name is not valid UTF-8, so nothing in it can become an S3 key; rename it",
          });
          continue;
        }
        pending.push(path);
      } else if (entry.isFile) {
        let info: Deno.FileInfo;
        try {
          info = Deno.lstatSync(base + path);
        } catch (error) {
          if (entry.name.includes("\uFFFD") && !exists(base + path)) {
            // Deno reads names that are not UTF-8 lossily; the file cannot be opened by it.
            skipped.push({
              path,
              kind: "invalid name",
              reason: "its name is not valid UTF-8, so it cannot become an S3 key; rename it",
            });
            continue;
          }
          if (error instanceof Deno.errors.NotFound) continue;
          skipped.push({ path, kind: "unreadable", reason: (error as Error).message });
          continue;
        }
        files.push({
          path,
          dev: info.dev,
          ino: info.ino ?? 0,
          size: info.size,
          mtimeMs: info.mtime?.getTime() ?? 0,
          btimeMs: info.birthtime?.getTime(),
        });
      } else if (entry.isSymlink) {
        skipped.push({ path, kind: "symlink", reason: "symbolic links are not followed" });
      } else {
        skipped.push({
          path,
          kind: "special",
          reason: "not a regular file (FIFO, socket or device)",
        });
      }
    }
  }
  return { files, skipped, rootDev: rootInfo.dev, directories };
}
