/**
 * The records that flow between the stages (scan → plan → execute → record): local
 * files, state rows, listed objects, actions and deferred moves. Every stage imports
 * them from here; this module imports nothing.
 *
 * @module
 */

/** Name of the state database, kept in the root of each synced directory. */
export const STATE_DB_NAME = ".s3-smart-sync.db";

/** A regular file found by `scan`. */
export interface LocalFile {
  /** Path relative to the scanned root, with "/" separators, as named on disk. */
  path: string;
  /** Device number of the file system holding the file. */
  dev: number;
  /** Inode number. */
  ino: number;
  /** Size in bytes. */
  size: number;
  /** Last modification time in milliseconds since the epoch. */
  mtimeMs: number;
  /**
   * Creation (birth) time in ms, where the file system keeps one (ext4, btrfs, APFS):
   * a file that reuses a deleted file's inode has a new one.
   */
  btimeMs?: number;
}

/** Something the scan saw but did not return as a file, and why. */
export interface SkippedEntry {
  /** Path relative to the root. */
  path: string;
  /** What kind of entry it was. */
  kind: "symlink" | "special" | "unreadable" | "invalid name" | "vanished";
  /** A sentence for the user. */
  reason: string;
}

/** Identifies one mirror of a directory: S3 endpoint, bucket and key prefix. */
export interface TargetKey {
  /** Endpoint URL, or "" for AWS itself. */
  endpoint: string;
  /** Bucket name. */
  bucket: string;
  /** Key prefix, empty or ending in "/". */
  prefix: string;
}

/**
 * What was recorded about a file. `inS3` is true when the object at the file's key is
 * known to hold exactly this content: we uploaded, moved or adopted it. When false,
 * the row only remembers what the local file looked like (written by `moves`, whose
 * uploads are done by another tool), so that its renames can still be recognised.
 */
export interface FileRecord {
  /** Key relative to the prefix: the local relative path, as named on disk. */
  path: string;
  /** Device number. */
  dev: number;
  /** Inode number. */
  ino: number;
  /** Size in bytes. */
  size: number;
  /** Modification time, ms since the epoch. */
  mtimeMs: number;
  /** Whether the object at this key is known to hold this content. */
  inS3: boolean;
  /** Birth time in ms, where the file system keeps one. */
  btimeMs?: number;
}

/** A change to the recorded rows, applied in one transaction. */
export interface StateChange {
  /** Rows to insert or replace. */
  upsert?: readonly FileRecord[];
  /** Paths whose rows are removed. */
  forget?: readonly string[];
}

/** Writes changes to the state of one target. Dry runs use `NullRecorder`. */
export interface StateRecorder {
  /** Applies a change in one transaction. */
  apply(change: StateChange): void;
  /**
   * Notes (before it starts) or clears (once it is complete) a multipart upload to a
   * full key, committed at once: the next run aborts the uploads a dead run left open.
   */
  multipart?(key: string, state: "started" | "done"): void;
  /** How many rows were written so far. */
  readonly writes: number;
}

/** What the remote listing says about one key (relative to the prefix). */
export interface RemoteEntry {
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch. */
  lastModifiedMs: number;
  /** ETag with quotes, if listed. */
  etag?: string;
  /** Storage class; undefined means STANDARD. */
  storageClass?: string;
  /** An archived object known (from HeadObject) to be restored, so it can be copied. */
  restored?: boolean;
}

/** Folder, under the prefix, that holds the temporary keys of swaps. */
export const TEMP_FOLDER = ".s3-smart-sync-tmp/";

/** A server-side move of an object from one key to another (copy, then delete). */
export interface MoveAction {
  /** Source key, relative to the prefix. */
  from: string;
  /** Destination key, relative to the prefix. */
  to: string;
  /** The local file now at `to`; undefined for a step into a temporary key. */
  file?: LocalFile;
  /** Size of the object. */
  size: number;
  /** ETag of the source as listed; the copy is made only if it still matches. */
  etag?: string;
  /** Storage class of the source, kept by the copy. */
  storageClass?: string;
  /** The destination already holds this object (a run died between copy and delete). */
  copyDone: boolean;
  /** Why the move was planned. */
  reason: string;
}

/** Why a file is uploaded. */
export type UploadReason = "new" | "changed" | "missing in S3" | "differs in S3";

/** An upload of a local file. */
export interface UploadAction {
  /** Destination key, relative to the prefix. */
  key: string;
  /** The local file. */
  file: LocalFile;
  /** Why. */
  reason: UploadReason;
}

/** A deletion of a key whose local file is gone (only with `--delete`). */
export interface DeleteAction {
  /** Key relative to the prefix. */
  key: string;
  /** Size of the object. */
  size: number;
  /** Why. */
  reason: string;
  /**
   * A temporary key a run that died during a swap left behind: deleted whatever the
   * options, never held and never counted by the delete guard.
   */
  temporary?: boolean;
}

/** A local file left out of the plan, and why. */
export interface PlanSkip {
  /** Local relative path. */
  path: string;
  /** Why. */
  reason: string;
}

/**
 * A move that waits: its source is archived (GLACIER, DEEP_ARCHIVE, or an
 * Intelligent-Tiering archive tier) and must be restored before S3 can copy it, or it
 * waits for such a move to vacate its destination. Its new path is not uploaded and its
 * old key is not deleted meanwhile.
 */
export interface DeferredMove {
  /** The archived object's key, relative to the prefix. */
  from: string;
  /** Where it goes once restored. */
  to: string;
  /** Size of the object. */
  size: number;
  /** Storage class of the source. */
  storageClass?: string;
  /** Why it waits. */
  reason: string;
}

/** The outcome of `plan`. */
export interface Plan {
  /** Server-side moves, not yet ordered (see `orderMoves`). */
  moves: MoveAction[];
  /** Uploads. */
  uploads: UploadAction[];
  /** Deletes. */
  deletes: DeleteAction[];
  /**
   * State changes that need no S3 request and are written before anything else:
   * adopted objects, changed inode numbers, local state recorded by `moves`, rows
   * of vanished files and rows at keys that a move is about to overwrite.
   */
  record: { upsert: FileRecord[]; forget: string[] };
  /** Files already in S3 as they are locally. */
  unchanged: number;
  /** Objects already in S3 that were adopted instead of uploaded. */
  adopted: number;
  /** Files whose inode changed at an unchanged path (remount, SMB/NFS). */
  inodeUpdates: number;
  /** Local files left out. */
  skipped: PlanSkip[];
  /** Moves that wait for a restore (see {@linkcode DeferredMove}). */
  deferred: DeferredMove[];
  /** Uploads held back because their key is the source of a deferred move. */
  waiting: UploadAction[];
}

/** One step of an ordered move sequence. */
export interface MoveStep extends MoveAction {
  /** The step moves into or out of a temporary key, to break a cycle. */
  viaTemp: boolean;
  /** For the last step of a cycle, the key the object came from before the swap. */
  originalFrom?: string;
}

/** A deferred move as the state DB keeps it. */
export interface DeferredRecord extends DeferredMove {
  /** When the move was first deferred, ms since the epoch. */
  firstDeferredMs: number;
  /** When `restore` last asked S3 to restore the source, if it did. */
  restoreRequestedMs?: number;
}

/**
 * The row that records `file` at `key`; `inS3` says whether the object at the key is
 * known to hold exactly this content.
 *
 * @example
 * ```ts
 * const file: LocalFile = { path: "a.jpg", dev: 2049, ino: 12, size: 5, mtimeMs: 1e12 };
 * recordOf(file, "a.jpg", true); // { path: "a.jpg", dev: 2049, ino: 12, size: 5, mtimeMs: 1e12, inS3: true }
 * ```
 */
export function recordOf(file: LocalFile, key: string, inS3: boolean): FileRecord {
  const { dev, ino, size, mtimeMs, btimeMs } = file;
  const record: FileRecord = { path: key, dev, ino, size, mtimeMs, inS3 };
  if (btimeMs !== undefined) record.btimeMs = btimeMs;
  return record;
}
