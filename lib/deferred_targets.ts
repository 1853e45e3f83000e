/**
 * Finds the deferred moves that `restore` and `restore-status` work on: those of one
 * target (from its state DB), or of every target listed in
 * `archive_restore_needed.log`.
 *
 * @module
 */
import { type DeferredRecord, readArchiveLog } from "./archive.ts";
import { STATE_DB_NAME } from "./filter.ts";
import { StateStore } from "./state.ts";
import type { S3Location } from "./target.ts";

/** The deferred moves of one target. */
export interface DeferredGroup {
  /** The synced local directory. */
  localDir: string;
  /** Endpoint URL, or "" for AWS. */
  endpoint: string;
  /** Bucket. */
  bucket: string;
  /** Prefix. */
  prefix: string;
  /** Its deferred moves (keys relative to the prefix). */
  moves: DeferredRecord[];
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The deferred moves of one target, read from the state DB in `localDir`.
 *
 * @example
 * ```ts
 * const group = deferredOfTarget("/volume1/photos", { location, endpoint: "" });
 * ```
 */
export function deferredOfTarget(
  localDir: string,
  target: { location: S3Location; endpoint: string },
): DeferredGroup {
  const group = {
    localDir,
    endpoint: target.endpoint,
    bucket: target.location.bucket,
    prefix: target.location.prefix,
    moves: [] as DeferredRecord[],
  };
  if (!exists(`${localDir}/${STATE_DB_NAME}`)) return group;
  const state = StateStore.open(localDir, { readOnly: true });
  try {
    const id = state.target({ endpoint: target.endpoint, ...target.location });
    group.moves = state.deferredMoves(id);
  } finally {
    state.close();
  }
  return group;
}

/**
 * Every target with deferred moves, from `archive_restore_needed.log`. Each target's
 * moves are read from its state DB where it still exists (the DB is the truth; the
 * log mirrors it), else from the log's lines.
 */
export function deferredFromLog(logPath: string): DeferredGroup[] {
  const groups = new Map<string, DeferredGroup>();
  for (const entry of readArchiveLog(logPath)) {
    const id = JSON.stringify([entry.localDir, entry.endpoint, entry.bucket, entry.prefix]);
    let group = groups.get(id);
    if (!group) {
      group = {
        localDir: entry.localDir,
        endpoint: entry.endpoint,
        bucket: entry.bucket,
        prefix: entry.prefix,
        moves: [],
      };
      groups.set(id, group);
    }
    group.moves.push({
      from: entry.oldKey.slice(entry.prefix.length),
      to: entry.newKey.slice(entry.prefix.length),
      size: 0,
      storageClass: entry.storageClass,
      reason: "listed in the archive log",
      firstDeferredMs: entry.firstDeferred.getTime(),
    });
  }
  return [...groups.values()].map((group) => {
    if (!exists(`${group.localDir}/${STATE_DB_NAME}`)) return group;
    const fromDb = deferredOfTarget(group.localDir, {
      location: { bucket: group.bucket, prefix: group.prefix },
      endpoint: group.endpoint,
    });
    return fromDb;
  });
}
