/**
 * The standard change set of the link benchmark, on a tree of 2,000 files of 10–20 KB
 * (10 year folders × 2 day folders × 100 files, random content from a seeded generator):
 * a folder of 200 files renamed, 100 files moved to another folder, 50 files edited
 * (content and size), 100 new files, 100 files deleted.
 *
 * @module
 */

/** Files per day folder. */
const PER_FOLDER = 100;
const YEARS = Array.from({ length: 10 }, (_, index) => String(2015 + index));
const DAYS = ["day-a", "day-b"];

/** A deterministic byte generator (xorshift32), so every run writes the same bytes. */
export class SeededBytes {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }

  /** The next 32-bit value. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** `size` bytes. */
  bytes(size: number): Uint8Array {
    const out = new Uint8Array(size);
    for (let index = 0; index < size; index += 4) {
      const value = this.next();
      out[index] = value;
      out[index + 1] = value >>> 8;
      out[index + 2] = value >>> 16;
      out[index + 3] = value >>> 24;
    }
    return out;
  }

  /** A size from 10,000 to 20,000 bytes. */
  size(): number {
    return 10_000 + (this.next() % 10_001);
  }
}

function write(path: string, bytes: Uint8Array): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeFileSync(path, bytes);
}

/**
 * Writes the initial tree under `dir` and sets every mtime to an hour ago (aws s3 sync
 * compares mtimes with LastModified, kept in whole seconds). Returns files and bytes.
 */
export function writeInitialTree(dir: string): { files: number; bytes: number } {
  const random = new SeededBytes(2024);
  const hourAgo = new Date(Date.now() - 3_600_000);
  let files = 0;
  let bytes = 0;
  for (const year of YEARS) {
    for (const day of DAYS) {
      for (let file = 0; file < PER_FOLDER; file++) {
        const path = `${dir}/${year}/${day}/IMG_${String(files).padStart(5, "0")}.jpg`;
        const size = random.size();
        write(path, random.bytes(size));
        Deno.utimeSync(path, hourAgo, hourAgo);
        files++;
        bytes += size;
      }
    }
  }
  return { files, bytes };
}

/** What the change set does, with the new contents (the same for every copy). */
export interface ChangeSet {
  /** Folder renames, old → new relative path. */
  renameFolders: Array<[string, string]>;
  /** File moves, old → new relative path. */
  moveFiles: Array<[string, string]>;
  /** Files rewritten with new content (and size). */
  edits: Map<string, Uint8Array>;
  /** New files. */
  additions: Map<string, Uint8Array>;
  /** Folders deleted with all their files. */
  deleteFolders: string[];
  /** Bytes of new content (edits and additions): what must be uploaded at least. */
  newBytes: number;
  /** The fewest requests that do it: copies, puts, one DeleteObjects (without listing). */
  minimum: { CopyObject: number; PutObject: number; DeleteObjects: number };
}

const name = (index: number) => `IMG_${String(index).padStart(5, "0")}.jpg`;
const indexOf = (year: number, day: number, file: number) =>
  (year * DAYS.length + day) * PER_FOLDER + file;

/** The standard change set (deterministic). */
export function standardChangeSet(): ChangeSet {
  const random = new SeededBytes(7);
  const moveFiles: Array<[string, string]> = [];
  for (let file = 0; file < PER_FOLDER; file++) {
    const index = indexOf(1, 0, file);
    moveFiles.push([`2016/day-a/${name(index)}`, `2017/day-b/${name(index)}`]);
  }
  const edits = new Map<string, Uint8Array>();
  for (let file = 0; file < 50; file++) {
    // 20,001–25,000 bytes: every edited file changes size (the originals have ≤ 20,000).
    edits.set(
      `2018/day-a/${name(indexOf(3, 0, file))}`,
      random.bytes(20_001 + random.next() % 5_000),
    );
  }
  const additions = new Map<string, Uint8Array>();
  for (let file = 0; file < 100; file++) {
    additions.set(`2019/day-new/${name(90_000 + file)}`, random.bytes(random.size()));
  }
  let newBytes = 0;
  for (const bytes of [...edits.values(), ...additions.values()]) newBytes += bytes.length;
  return {
    renameFolders: [["2015", "2015 Italy trip"]],
    moveFiles,
    edits,
    additions,
    deleteFolders: ["2020/day-a"],
    newBytes,
    minimum: { CopyObject: 2 * PER_FOLDER + moveFiles.length, PutObject: 150, DeleteObjects: 1 },
  };
}

/** Applies `changes` to the tree under `dir` (renames are renames: inodes are kept). */
export function applyChangeSet(dir: string, changes: ChangeSet): void {
  for (const [from, to] of changes.renameFolders) Deno.renameSync(`${dir}/${from}`, `${dir}/${to}`);
  for (const [from, to] of changes.moveFiles) Deno.renameSync(`${dir}/${from}`, `${dir}/${to}`);
  for (const [path, bytes] of changes.edits) Deno.writeFileSync(`${dir}/${path}`, bytes);
  for (const [path, bytes] of changes.additions) write(`${dir}/${path}`, bytes);
  for (const folder of changes.deleteFolders) {
    Deno.removeSync(`${dir}/${folder}`, { recursive: true });
  }
}
