/**
 * The planner: a pure merge of three listings (recorded state, local scan, remote
 * listing) into a {@linkcode Plan} of actions, each carrying its reason.
 *
 * @module
 */
import {
  type FileRecord,
  type LocalFile,
  type MoveAction,
  type Plan,
  recordOf,
  type RemoteEntry,
  TEMP_FOLDER,
  type UploadReason,
} from "../model.ts";
import { ARCHIVE_CLASSES } from "../s3/archive.ts";

/** Options of {@linkcode plan}. */
export interface PlanOptions {
  /** `sync` uploads and deletes; `moves` only moves and records local state. */
  mode: "sync" | "moves";
  /**
   * Delete keys whose local file is gone. In moves mode the deletes are planned so that
   * the delete guard can judge what another tool (aws s3 sync --delete) would delete.
   */
  deleteRemote?: boolean;
  /** The root's device number changed since the last run: match inodes across devices. */
  rootDevChanged?: boolean;
  /**
   * The target's rows were written when keys were the names normalised to NFC (schema
   * before v5): an object at the NFC form of a differently-normalised local name, with
   * that file's size and mtime, is moved to the name as on disk (once).
   */
  nfcKeys?: boolean;
}

/** Why a move brings an NFC-keyed object (older versions) to the name as on disk. */
export const NAME_AS_ON_DISK = "key is now the name as on disk (it was normalised to NFC)";

/** The three listings {@linkcode plan} merges. */
export interface PlanInput {
  /** Recorded state, by relative key. */
  previous: ReadonlyMap<string, FileRecord>;
  /** Local files, already filtered. */
  local: readonly LocalFile[];
  /** Remote objects by key relative to the prefix, already filtered. */
  remote: ReadonlyMap<string, RemoteEntry>;
}

/**
 * True when an object already in S3 can stand for the local file: same size, and
 * not older (to the second S3 lists) than the file's last modification — the rule
 * `aws s3 sync` applies, so an object uploaded before the file last changed is not
 * taken for it.
 */
export function matchesRemote(remote: RemoteEntry | undefined, file: LocalFile): boolean {
  return remote !== undefined && remote.size === file.size &&
    Math.floor(remote.lastModifiedMs / 1000) >= Math.floor(file.mtimeMs / 1000);
}

function sameContent(record: FileRecord, file: LocalFile): boolean {
  return record.size === file.size && record.mtimeMs === file.mtimeMs &&
    // A new file on a reused inode (or at the same path, as `cp -p` makes it) has its own
    // birth time, where the file system keeps one; a renamed or remounted file keeps it.
    (record.btimeMs === undefined || file.btimeMs === undefined ||
      record.btimeMs === file.btimeMs);
}

/**
 * Merges recorded state, the local scan and the remote listing into a plan.
 *
 * A move from K_old to K_new is planned only when (1) the file at K_new has the
 * inode (and device, unless the root's device changed) of the file recorded at
 * K_old; (2) that inode no longer lives at K_old (the path is gone, or holds another
 * inode, as in a swap: a hard link or a copy keeps it there); (3) size and mtime equal
 * the recorded ones; (4) K_old is listed with that size (and, when we did not upload it
 * ourselves, not older than the file). Everything else is uploaded, adopted or
 * recorded.
 *
 * @example
 * ```ts
 * const previous = new Map([
 *   ["a.jpg", { path: "a.jpg", dev: 1, ino: 7, size: 5, mtimeMs: 1e12, inS3: true }],
 * ]);
 * const local = [{ path: "b.jpg", dev: 1, ino: 7, size: 5, mtimeMs: 1e12 }];
 * const remote = new Map([["a.jpg", { size: 5, lastModifiedMs: 1e12, etag: '"e1"' }]]);
 * const result = plan({ previous, local, remote }, { mode: "sync", deleteRemote: true });
 * console.log(result.moves); // [{ from: "a.jpg", to: "b.jpg", reason: "renamed", … }]
 * ```
 */
export function plan(input: PlanInput, options: PlanOptions): Plan {
  const { previous, remote } = input;
  const result: Plan = {
    moves: [],
    uploads: [],
    deletes: [],
    record: { upsert: [], forget: [] },
    unchanged: 0,
    adopted: 0,
    inodeUpdates: 0,
    skipped: [],
    deferred: [],
    waiting: [],
  };

  // One pass over the local files with every lookup they need, so that the usual run,
  // where little changed, costs a few map operations per file (this runs on millions).
  const keys: string[] = [];
  const files: LocalFile[] = [];
  const records: Array<FileRecord | undefined> = [];
  const listings: Array<RemoteEntry | undefined> = [];
  let stableRecords = 0;
  let matchedRecords = 0;
  let matchedRemote = 0;
  for (const file of input.local) {
    // Keys are the names as on disk, as aws s3 sync and rclone store them.
    const key = file.path;
    if (key.startsWith(TEMP_FOLDER)) {
      result.skipped.push({ path: file.path, reason: `"${TEMP_FOLDER}" is reserved for swaps` });
      continue;
    }
    const record = previous.get(key);
    const listed = remote.get(key);
    keys.push(key);
    files.push(file);
    records.push(record);
    listings.push(listed);
    if (record) {
      matchedRecords++;
      if (sameInode(record, file)) stableRecords++;
    }
    if (listed) matchedRemote++;
  }

  // Local files by key, built only when some row or key has no file at its path.
  let byKey: Map<string, LocalFile> | undefined;
  const localByKey = (): Map<string, LocalFile> => {
    if (byKey) return byKey;
    byKey = new Map();
    for (let index = 0; index < keys.length; index++) byKey.set(keys[index]!, files[index]!);
    return byKey;
  };

  // Rename sources: recorded files whose inode no longer lives at their path.
  const sourcesByInode = new Map<number, FileRecord[]>();
  if (stableRecords < previous.size) {
    const local = localByKey();
    for (const record of previous.values()) {
      const now = local.get(record.path);
      if (now && sameInode(record, now)) continue;
      const list = sourcesByInode.get(record.ino);
      if (list) list.push(record);
      else sourcesByInode.set(record.ino, [record]);
    }
  }
  const claimed = new Set<string>();
  function sameInode(record: FileRecord, file: LocalFile): boolean {
    return record.ino === file.ino && (options.rootDevChanged || record.dev === file.dev);
  }

  const findSource = (file: LocalFile, key: string): FileRecord | undefined => {
    for (const record of sourcesByInode.get(file.ino) ?? []) {
      if (claimed.has(record.path) || record.path === key) continue;
      if (!options.rootDevChanged && record.dev !== file.dev) continue;
      if (!sameContent(record, file)) continue;
      const listed = remote.get(record.path);
      if (!listed || listed.size !== file.size) continue;
      if (!record.inS3 && !matchesRemote(listed, file)) continue;
      return record;
    }
    return undefined;
  };

  const wantsUpload = (
    file: LocalFile,
    key: string,
    record: FileRecord | undefined,
    reason: UploadReason,
  ) => {
    if (deferredSources.has(key)) {
      // Uploading here would overwrite the archived object a deferred move still needs.
      result.waiting.push({ key, file, reason });
    } else if (options.mode === "sync") result.uploads.push({ key, file, reason });
    else if (claimed.has(key)) {
      // moves: this key's row is the source of a move; record the new file next run.
    } else if (
      !record || record.inS3 || !sameContent(record, file) || record.ino !== file.ino ||
      record.dev !== file.dev
    ) {
      result.record.upsert.push(recordOf(file, key, false));
    }
  };

  // Before v5, keys were the names normalised to NFC: the row and object of a file whose
  // name is not NFC sit at the NFC form of its name. Moving them to the name as on disk
  // needs neither the inode (a remount may have changed it) nor a rename.
  const legacySource = (file: LocalFile, key: string): FileRecord | undefined => {
    const nfc = key.normalize("NFC");
    if (nfc === key || claimed.has(nfc) || localByKey().has(nfc)) return undefined;
    const record = previous.get(nfc);
    if (!record || record.size !== file.size || record.mtimeMs !== file.mtimeMs) return undefined;
    const listed = remote.get(nfc);
    if (!listed || listed.size !== file.size) return undefined;
    return record.inS3 || matchesRemote(listed, file) ? record : undefined;
  };

  // First pass: renames. Their sources are claimed before any other decision, so that
  // no file is taken to be in S3 under a key that a move is about to take away.
  const decided = new Set<number>();
  if (sourcesByInode.size > 0) {
    for (let index = 0; index < files.length; index++) {
      const file = files[index]!;
      const record = records[index];
      if (record && sameInode(record, file)) continue;
      const key = keys[index]!;
      const source = findSource(file, key) ??
        (options.nfcKeys && record === undefined ? legacySource(file, key) : undefined);
      if (!source) continue;
      claimed.add(source.path);
      decided.add(index);
      const listedSource = remote.get(source.path)!;
      result.moves.push({
        from: source.path,
        to: key,
        file,
        size: file.size,
        etag: listedSource.etag,
        storageClass: listedSource.storageClass,
        copyDone: false,
        reason: source.path === key.normalize("NFC") ? NAME_AS_ON_DISK : "renamed",
      });
    }
  }

  // Moves whose source is archived wait for a restore, and so does every move that
  // needs a waiting move's source key vacated first (chains, cycles).
  const deferredSources = new Set<string>();
  if (result.moves.length > 0) {
    const bySource = new Map(result.moves.map((move) => [move.from, move]));
    const waiting = new Map<MoveAction, string>();
    for (const move of result.moves) {
      const listedSource = remote.get(move.from);
      if (move.storageClass && ARCHIVE_CLASSES.has(move.storageClass) && !listedSource?.restored) {
        waiting.set(move, `source is in ${move.storageClass} and must be restored first`);
      }
    }
    for (let changed = waiting.size > 0; changed;) {
      changed = false;
      for (const move of result.moves) {
        if (waiting.has(move)) continue;
        const vacating = bySource.get(move.to);
        if (vacating && waiting.has(vacating)) {
          waiting.set(move, `waits for the archived object at "${move.to}" to move first`);
          changed = true;
        }
      }
    }
    if (waiting.size > 0) {
      result.moves = result.moves.filter((move) => !waiting.has(move));
      for (const [move, reason] of waiting) {
        deferredSources.add(move.from);
        result.deferred.push({
          from: move.from,
          to: move.to,
          size: move.size,
          storageClass: move.storageClass,
          reason,
        });
      }
    }
  }

  // Second pass: everything else is unchanged, adopted, recorded or uploaded.
  for (let index = 0; index < files.length; index++) {
    if (decided.size > 0 && decided.has(index)) continue;
    const file = files[index]!;
    const key = keys[index]!;
    const record = records[index];
    const listed = claimed.size > 0 && claimed.has(key) ? undefined : listings[index];
    if (record && sameContent(record, file)) {
      if (record.inS3 && listed?.size === file.size) {
        if (record.ino === file.ino && record.dev === file.dev) result.unchanged++;
        else {
          // Same path, size and mtime, new inode number: a remount, not a content change.
          result.inodeUpdates++;
          result.record.upsert.push(recordOf(file, key, true));
        }
      } else if (!record.inS3 && matchesRemote(listed, file)) {
        result.adopted++;
        result.record.upsert.push(recordOf(file, key, true));
      } else {
        wantsUpload(
          file,
          key,
          record,
          listed === undefined ? "missing in S3" : record.inS3 ? "differs in S3" : "new",
        );
      }
      continue;
    }
    // New or changed content at this path.
    if (record === undefined || !record.inS3) {
      if (matchesRemote(listed, file)) {
        result.adopted++;
        result.record.upsert.push(recordOf(file, key, true));
        continue;
      }
      wantsUpload(file, key, record, record === undefined ? "new" : "changed");
    } else {
      wantsUpload(file, key, record, "changed");
    }
  }

  const moveTargets = new Set([...result.moves, ...result.deferred].map((move) => move.to));
  for (const move of result.moves) {
    const destination = remote.get(move.to);
    move.copyDone = !claimed.has(move.to) && destination !== undefined &&
      destination.size === move.size && destination.etag !== undefined &&
      destination.etag === move.etag;
  }

  // Rows of vanished files, and rows at keys a move is about to overwrite.
  if (matchedRecords < previous.size || moveTargets.size > 0) {
    const local = localByKey();
    for (const record of previous.values()) {
      if (claimed.has(record.path)) continue;
      const now = local.get(record.path);
      if (!now || moveTargets.has(record.path)) result.record.forget.push(record.path);
    }
  }

  // Keys without a local file.
  if (matchedRemote < remote.size) {
    const local = localByKey();
    for (const [key, listed] of remote) {
      if (local.has(key) || claimed.has(key)) continue;
      if (key.startsWith(TEMP_FOLDER)) {
        // Left by a run that died during a swap; its content is still at the original key.
        result.deletes.push({
          key,
          size: listed.size,
          reason: "leftover temporary key",
          temporary: true,
        });
      } else if (options.deleteRemote) {
        result.deletes.push({ key, size: listed.size, reason: "no local file" });
      }
    }
  }
  return result;
}
