/**
 * The small rules the planner applies to one file, one row and one listed object: is it
 * the same file, the same content, can a listed object stand for it, what row records it.
 *
 * @module
 */
import type { FileRecord, LocalFile, RemoteEntry, UploadReason } from "../model.ts";
import { recordOf } from "../model.ts";

/** Why a move brings an NFC-keyed object (older versions) to the name as on disk. */
export const NAME_AS_ON_DISK = "key is now the name as on disk (it was normalised to NFC)";

/**
 * True when an object already in S3 can stand for the local file: same size, and
 * not older (to the second S3 lists) than the file's last modification — the rule
 * `aws s3 sync` applies, so an object uploaded before the file last changed is not
 * taken for it.
 *
 * @example
 * ```ts
 * const file = { path: "a.jpg", dev: 1, ino: 2n, size: 5, mtimeMs: 1_700_000_000_000 };
 * matchesRemote({ size: 5, lastModifiedMs: 1_700_000_060_000 }, file); // true
 * ```
 */
export function matchesRemote(remote: RemoteEntry | undefined, file: LocalFile): boolean {
  return remote !== undefined && remote.size === file.size &&
    Math.floor(remote.lastModifiedMs / 1000) >= Math.floor(file.mtimeMs / 1000);
}

/**
 * True when the row describes this content: same size and mtime, and the same birth time
 * where both have one (a new file on a reused inode, or one put at the same path by
 * `cp -p`, has its own; a renamed or remounted file keeps it).
 */
export function sameContent(record: FileRecord, file: LocalFile): boolean {
  return record.size === file.size && record.mtimeMs === file.mtimeMs &&
    (record.btimeMs === undefined || file.btimeMs === undefined ||
      record.btimeMs === file.btimeMs);
}

/**
 * True when the row and the file are the same inode: same inode number, and the same
 * device unless the root's device changed since the last run (a remount).
 */
export function sameInode(record: FileRecord, file: LocalFile, rootDevChanged: boolean): boolean {
  return record.ino === file.ino && (rootDevChanged || record.dev === file.dev);
}

/**
 * The row a `moves` run writes for a file it does not upload (moves upload nothing), so
 * that the file's renames are recognised after another tool uploaded it; undefined when
 * its row already says so.
 */
export function localRowOf(
  file: LocalFile,
  record: FileRecord | undefined,
): FileRecord | undefined {
  return !record || record.inS3 || !sameContent(record, file) || !sameInode(record, file, false)
    ? recordOf(file, file.path, false)
    : undefined;
}

/**
 * What is known about an object: its ETag and class from the listing where there is one
 * (a listing that names no class says STANDARD), else from its row, which may not know
 * them; its encryption from its row only (a listing does not say it).
 *
 * @example
 * ```ts
 * objectFacts({ size: 1, lastModifiedMs: 0, etag: '"e"' }, undefined);
 * // { etag: '"e"', storageClass: "STANDARD" }
 * ```
 */
export function objectFacts(
  listed: RemoteEntry | undefined,
  record: FileRecord | undefined,
): { etag?: string; storageClass?: string; sse?: string } {
  const facts: { etag?: string; storageClass?: string; sse?: string } = {};
  const etag = listed?.etag ?? record?.etag;
  if (etag !== undefined) facts.etag = etag;
  const storageClass = listed && !listed.recorded
    ? listed.storageClass ?? "STANDARD"
    : record?.storageClass;
  if (storageClass !== undefined) facts.storageClass = storageClass;
  if (record?.sse !== undefined) facts.sse = record.sse;
  return facts;
}

/**
 * The row of a file whose object is known to hold it, keeping what is known about the
 * object (see {@linkcode objectFacts}).
 */
function recordInS3(
  file: LocalFile,
  facts: { listed?: RemoteEntry; previous?: FileRecord },
): FileRecord {
  return {
    ...recordOf(file, file.path, true),
    ...objectFacts(facts.listed, facts.previous),
  };
}

/**
 * What the listing would say about a row's object, for runs that trust the state
 * instead of listing: the recorded size, ETag and class, when the row says the object
 * holds its file.
 */
export function listedFromRecord(record: FileRecord): RemoteEntry | undefined {
  if (!record.inS3) return undefined;
  const entry: RemoteEntry = { size: record.size, lastModifiedMs: record.mtimeMs, recorded: true };
  if (record.etag !== undefined) entry.etag = record.etag;
  if (record.storageClass !== undefined && record.storageClass !== "STANDARD") {
    entry.storageClass = record.storageClass;
  }
  return entry;
}

/** True when the listing knows the object's ETag or class and the row does not. */
function learnsFromListing(record: FileRecord, object: RemoteEntry): boolean {
  return !object.recorded &&
    ((record.etag === undefined && object.etag !== undefined) ||
      record.storageClass === undefined);
}

/**
 * What to do with a file whose row (if any) has its inode, once renames are ruled out. A
 * `record` that is neither adopted nor an inode update refreshes what the row knows of an
 * unchanged file's object.
 */
export type FileDecision =
  | { kind: "unchanged" }
  | { kind: "record"; record: FileRecord; adopted: boolean; inodeUpdate: boolean }
  | { kind: "upload"; reason: UploadReason };

/**
 * Decides a file that no rename explains: unchanged, a row to write (an object adopted,
 * an inode changed by a remount), or an upload with its reason.
 *
 * @param file the local file.
 * @param record the row at its path, if any (with this file's inode, or none).
 * @param object the object at its key (listed, or recorded when trusting the state).
 */
export function decideFile(
  file: LocalFile,
  record: FileRecord | undefined,
  object: RemoteEntry | undefined,
): FileDecision {
  if (record && sameContent(record, file)) {
    if (record.inS3 && object?.size === file.size) {
      if (sameInode(record, file, false)) {
        // Unchanged; a row that does not know its object's ETag or class (Ceph RGW
        // answers a multipart upload with an empty ETag) learns them from the listing.
        return learnsFromListing(record, object)
          ? {
            kind: "record",
            record: recordInS3(file, { listed: object, previous: record }),
            adopted: false,
            inodeUpdate: false,
          }
          : { kind: "unchanged" };
      }
      // Same path, size and mtime, another inode or device: a remount, not a content change.
      return {
        kind: "record",
        record: recordInS3(file, { listed: object, previous: record }),
        adopted: false,
        inodeUpdate: true,
      };
    }
    if (!record.inS3 && matchesRemote(object, file)) {
      return {
        kind: "record",
        record: recordInS3(file, { listed: object }),
        adopted: true,
        inodeUpdate: false,
      };
    }
    return {
      kind: "upload",
      reason: object === undefined ? "missing in S3" : record.inS3 ? "differs in S3" : "new",
    };
  }
  if ((record === undefined || !record.inS3) && matchesRemote(object, file)) {
    return {
      kind: "record",
      record: recordInS3(file, { listed: object }),
      adopted: true,
      inodeUpdate: false,
    };
  }
  return { kind: "upload", reason: record === undefined ? "new" : "changed" };
}
