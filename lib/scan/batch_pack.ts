/**
 * A compact form of a {@linkcode ScanBatch} for passing between threads: one string and
 * two typed arrays (whose buffers are transferred, not copied) cross far faster than
 * thousands of objects, which the structured clone would copy one by one.
 *
 * The paths travel as a JSON array rather than joined by NUL: `JSON.parse` gives every
 * path a string of its own, where `split` gives slices of the joined string, each of
 * which keeps the whole batch's string alive. The plan keeps the files that changed, so
 * with slices one kept file per batch would keep every path of the tree in memory.
 *
 * @module
 */
import type { LocalFile, ScanBatch, SkippedEntry } from "../model.ts";

const FIELDS = 4;

/** A batch as one string and two typed arrays. */
export interface PackedBatch {
  /** File paths, as a JSON array. */
  paths: string;
  /** dev, size, mtimeMs and btimeMs (NaN: none) of each file in turn. */
  numbers: Float64Array;
  /** Inode of each file, exact. */
  inodes: BigUint64Array;
  /** Skipped entries, as they are (few). */
  skipped: SkippedEntry[];
}

/**
 * Packs a batch; pass {@linkcode transferablesOf} its result to `postMessage`.
 *
 * @param batch a batch of the walk.
 * @returns the packed batch.
 *
 * @example
 * ```ts
 * const { port1 } = new MessageChannel();
 * const packed = packBatch({ files: [], skipped: [] });
 * port1.postMessage(packed, transferablesOf(packed));
 * port1.close();
 * ```
 */
export function packBatch(batch: ScanBatch): PackedBatch {
  const { files } = batch;
  const numbers = new Float64Array(files.length * FIELDS);
  const inodes = new BigUint64Array(files.length);
  const paths: string[] = new Array(files.length);
  for (let index = 0; index < files.length; index++) {
    const file = files[index]!;
    paths[index] = file.path;
    inodes[index] = file.ino;
    const at = index * FIELDS;
    numbers[at] = file.dev;
    numbers[at + 1] = file.size;
    numbers[at + 2] = file.mtimeMs;
    numbers[at + 3] = file.btimeMs ?? NaN;
  }
  return { paths: JSON.stringify(paths), numbers, inodes, skipped: batch.skipped };
}

/**
 * The buffers of a packed batch, to be moved rather than copied by `postMessage`.
 *
 * @param packed a packed batch.
 * @returns its buffers.
 *
 * @example
 * ```ts
 * const packed = packBatch({ files: [], skipped: [] });
 * console.log(transferablesOf(packed).length); // 2
 * ```
 */
export function transferablesOf(packed: PackedBatch): ArrayBuffer[] {
  return [packed.numbers.buffer as ArrayBuffer, packed.inodes.buffer as ArrayBuffer];
}

/**
 * Unpacks what {@linkcode packBatch} made.
 *
 * @param packed a packed batch.
 * @returns the batch.
 *
 * @example
 * ```ts
 * const file = { path: "a.jpg", dev: 2049, ino: 2n ** 63n, size: 5, mtimeMs: 1e12 };
 * unpackBatch(packBatch({ files: [file], skipped: [] })).files[0]!.ino; // 2n ** 63n
 * ```
 */
export function unpackBatch(packed: PackedBatch): ScanBatch {
  const { numbers, inodes } = packed;
  const count = inodes.length;
  const paths: string[] = JSON.parse(packed.paths);
  const files: LocalFile[] = new Array(count);
  for (let index = 0; index < count; index++) {
    const at = index * FIELDS;
    const btimeMs = numbers[at + 3]!;
    files[index] = {
      path: paths[index]!,
      dev: numbers[at]!,
      ino: inodes[index]!,
      size: numbers[at + 1]!,
      mtimeMs: numbers[at + 2]!,
      btimeMs: Number.isNaN(btimeMs) ? undefined : btimeMs,
    };
  }
  return { files, skipped: packed.skipped };
}
