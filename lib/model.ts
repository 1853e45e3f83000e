/**
 * The records that flow between the stages (scan → plan → execute → record): local
 * files, state rows, listed objects, actions and deferred moves. Every stage imports
 * them from here; this module imports nothing.
 *
 * @module
 */

/** Name of the state database, kept in the root of each synced directory. */
export const STATE_DB_NAME = ".s3-smart-sync.db";

/**
 * The device number a row keeps for a file on the root's own file system: "the root's".
 * The root's number changes with a remount or the next snapshot of a volume, and rows
 * keyed by it would all look changed; files on other file systems below the root keep
 * their own number.
 */
export const ROOT_DEVICE = 0;

/** A regular file found by `scan`. */
export interface LocalFile {
  /** Path relative to the scanned root, with "/" separators, as named on disk. */
  path: string;
  /** Device number of the file system holding the file. */
  dev: number;
  /**
   * Inode number, exact: NFS and some FUSE file systems use all 64 bits, more than a
   * JavaScript number holds.
   */
  ino: bigint;
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
  /** Inode number, exact (64 bits). */
  ino: bigint;
  /** Size in bytes. */
  size: number;
  /** Modification time, ms since the epoch. */
  mtimeMs: number;
  /** Whether the object at this key is known to hold this content. */
  inS3: boolean;
  /** Birth time in ms, where the file system keeps one. */
  btimeMs?: number;
  /** The object's ETag when we uploaded, moved or adopted it (with quotes), if known. */
  etag?: string;
  /**
   * The object's storage class as recorded, "STANDARD" included; undefined when not known
   * (rows written before schema 6).
   */
  storageClass?: string;
  /**
   * How the object is encrypted, when we know it: "" the bucket's default (nothing was
   * asked for), "AES256", "aws:kms" or "aws:kms:KEY-ID". Undefined: not known (an object
   * we adopted), so a move reads the object's headers first.
   */
  sse?: string;
  /**
   * The object was copied to this key, and its own key waits to be deleted: a run that
   * ended between the copy and the delete left this row, and the next run deletes the key
   * (unless a file is at this path again).
   */
  movedTo?: string;
}

/** A change to the recorded rows, applied in one transaction. */
export interface StateChange {
  /** Rows to insert or replace. */
  upsert?: readonly FileRecord[];
  /** Paths whose rows are removed. */
  forget?: readonly string[];
  /** Rows whose object was copied to `to`: their key waits to be deleted. */
  moved?: ReadonlyArray<{ path: string; to: string }>;
  /** Paths whose rows are removed if they still wait for their key to be deleted. */
  forgetMoved?: readonly string[];
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

/** A batch of what the scan found, in key order. */
export interface ScanBatch {
  /** Regular files, sorted as S3 sorts their keys (by the UTF-8 bytes of the path). */
  files: LocalFile[];
  /** Entries that are not regular files or could not be read, in no particular order. */
  skipped: SkippedEntry[];
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
  /**
   * Not listed: the row's record stands for the object (a run that trusts the state).
   * Its storage class is then the row's, which may be unknown.
   */
  recorded?: boolean;
}

/** Folder, under the prefix, that holds the temporary keys of swaps. */
export const TEMP_FOLDER = ".s3-smart-sync-tmp/";

/** A listed object: its key relative to the prefix, and what the listing says of it. */
export interface ListedEntry extends RemoteEntry {
  /** Key relative to the prefix. */
  key: string;
}

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
  /** ETag of the source (listed, or recorded); the copy is made only if it still matches. */
  etag?: string;
  /**
   * Storage class of the source, kept by the copy ("STANDARD" included); undefined when
   * not known, so the copy reads it from the object first.
   */
  storageClass?: string;
  /**
   * The source's encryption as recorded (see `FileRecord.sse`); undefined when not known,
   * so the copy reads the source's headers first to keep it.
   */
  sse?: string;
  /** The destination already holds this object (a run died between copy and delete). */
  copyDone: boolean;
  /**
   * The source key gets new content in this run (another move's destination, or a new
   * file at that path), so it is not deleted after the copy.
   */
  keepSource?: boolean;
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
  /**
   * Storage class and encryption (as the state records it) to give the object instead of
   * the run's: a move the server could not copy keeps those of the object it replaces.
   */
  keep?: { storageClass?: string; sse?: string };
}

/**
 * The uploads a plan decided, held until the executor makes them: in memory, or on disk
 * for a first run of a million files.
 */
export interface UploadQueue {
  /** Adds an upload. */
  push(action: UploadAction): void;
  /** How many uploads it holds. */
  readonly count: number;
  /** How many bytes they are. */
  readonly bytes: number;
  /** The uploads in the order they were pushed, a batch at a time. */
  batches(): Iterable<UploadAction[]>;
  /** Frees what it holds; it is empty afterwards. */
  close(): void;
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
   * Completes earlier work rather than deleting a user's object: a temporary key of a
   * swap, or the source of a move whose copy a dead run recorded. Made whatever the
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
  /** Uploads (in memory, or spilled to disk for a first run of millions of files). */
  uploads: UploadQueue;
  /** Deletes. */
  deletes: DeleteAction[];
  /**
   * State changes that need no S3 request and are written before anything else: rows
   * of vanished files and rows at keys that a move is about to overwrite, and the rows of
   * files decided after rename matching (adopted objects, changed inode numbers, local
   * state recorded by `moves`). Rows decided while merging are written then.
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
 * const file: LocalFile = { path: "a.jpg", dev: 2049, ino: 12n, size: 5, mtimeMs: 1e12 };
 * recordOf(file, "a.jpg", true); // { path: "a.jpg", dev: 2049, ino: 12n, size: 5, mtimeMs: 1e12, inS3: true }
 * ```
 */
export function recordOf(file: LocalFile, key: string, inS3: boolean): FileRecord {
  const { dev, ino, size, mtimeMs, btimeMs } = file;
  const record: FileRecord = { path: key, dev, ino, size, mtimeMs, inS3 };
  if (btimeMs !== undefined) record.btimeMs = btimeMs;
  return record;
}
