/**
 * How a {@linkcode FileRecord} is stored in a row of `files`, and read back. Inode
 * numbers are unsigned 64-bit values, SQLite integers signed ones: they are stored as the
 * signed integer with the same 64 bits, so that every inode round-trips exactly.
 *
 * @module
 */
import type { FileRecord } from "../model.ts";

/** The columns of `files` read into a record, in this order. */
export const RECORD_COLUMNS =
  "path, dev, ino, size, mtime_ms, in_s3, btime_ms, etag, storage_class, sse, moved_to";

/** A row of {@linkcode RECORD_COLUMNS} as node:sqlite returns it with big integers. */
export type RecordRow = [
  string,
  bigint,
  bigint,
  bigint,
  number | bigint,
  bigint,
  number | bigint | null,
  string | null,
  string | null,
  string | null,
  string | null,
];

/** The value an inode number is stored as (the signed 64-bit integer with its bits). */
export function storedInode(ino: bigint): bigint {
  return BigInt.asIntN(64, ino);
}

/**
 * The record of a row read with `setReadBigInts(true)` and `setReturnArrays(true)`.
 *
 * @example
 * ```ts
 * const row: RecordRow = ["a.jpg", 2049n, -1n, 5n, 1e12, 1n, null, '"e1"', "STANDARD", "", null];
 * recordOfRow(row).ino; // 18446744073709551615n: the stored -1 is the inode 2^64 − 1
 * ```
 */
export function recordOfRow(row: RecordRow): FileRecord {
  const [path, dev, ino, size, mtimeMs, inS3, btimeMs, etag, storageClass, sse, movedTo] = row;
  const record: FileRecord = {
    path,
    dev: Number(dev),
    ino: BigInt.asUintN(64, ino),
    size: Number(size),
    mtimeMs: Number(mtimeMs),
    inS3: inS3 === 1n,
  };
  if (btimeMs !== null) record.btimeMs = Number(btimeMs);
  if (etag !== null) record.etag = etag;
  if (storageClass !== null) record.storageClass = storageClass;
  if (sse !== null) record.sse = sse;
  if (movedTo !== null) record.movedTo = movedTo;
  return record;
}

/** The values of an `INSERT OR REPLACE` of a record, after `target_id`, in column order. */
export function rowValuesOf(record: FileRecord): Array<string | number | bigint | null> {
  return [
    record.path,
    record.dev,
    storedInode(record.ino),
    record.size,
    record.mtimeMs,
    record.inS3 ? 1 : 0,
    record.btimeMs ?? null,
    record.etag ?? null,
    record.storageClass ?? null,
    record.sse ?? null,
    record.movedTo ?? null,
  ];
}
