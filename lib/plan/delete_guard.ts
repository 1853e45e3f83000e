/**
 * The guard that refuses mass deletion when the local side looks unmounted or
 * emptied: a backup must not be wiped because a NAS share did not mount.
 *
 * @module
 */

import { DeleteRefusedError } from "../errors.ts";

/** Options of {@linkcode deleteGuard}. */
export interface DeleteGuardOptions {
  /** Local files found (after excludes). */
  localFiles: number;
  /** Objects listed under the prefix (after excludes). */
  remoteObjects: number;
  /** Deletes the plan wants. */
  deletes: number;
  /** The user allows at most this many deletes, whatever the fraction. */
  maxDelete?: number;
  /** The user confirmed that mass deletion is intended. */
  force?: boolean;
  /** Largest fraction of the listed objects deleted without confirmation. Default 0.5. */
  threshold?: number;
}

/**
 * Returns why the planned deletes are refused, or undefined when they may proceed.
 * Refused: any delete when no local file was found (only `force` overrides that);
 * more than `maxDelete` when it is given; otherwise more than half of the listed
 * objects (and more than ten).
 *
 * @example
 * ```ts
 * deleteGuard({ localFiles: 0, remoteObjects: 5000, deletes: 5000 });
 * // "the local directory has no files but 5000 objects would be deleted ..."
 * ```
 */
export function deleteGuard(options: DeleteGuardOptions): string | undefined {
  const { localFiles, remoteObjects, deletes } = options;
  if (deletes === 0 || options.force) return undefined;
  if (localFiles === 0) {
    return `the local directory has no files but ${deletes} objects would be deleted; is the volume mounted? If the directory really is empty, pass --force-delete`;
  }
  if (options.maxDelete !== undefined) {
    return deletes > options.maxDelete
      ? `${deletes} objects would be deleted, more than --max-delete ${options.maxDelete}; raise it or pass --force-delete`
      : undefined;
  }
  const threshold = options.threshold ?? 0.5;
  if (deletes > 10 && deletes > remoteObjects * threshold) {
    return `${deletes} of ${remoteObjects} objects (${
      Math.round((deletes / remoteObjects) * 100)
    }%) would be deleted, more than ${
      Math.round(threshold * 100)
    }%; is the volume fully mounted? If this is intended, pass --max-delete ${deletes} or --force-delete`;
  }
  return undefined;
}

/** Kinds of scan entries that may be where a deleted-looking file went. */
const UNSEEN_KINDS: ReadonlySet<string> = new Set(["unreadable", "invalid name", "vanished"]);

/**
 * Entries the scan could not read or name: a file that looks deleted may be among them
 * (renamed to a bad name, moved into a folder that became unreadable).
 */
export function unseenEntries<T extends { kind: string }>(skipped: readonly T[]): T[] {
  return skipped.filter((entry) => UNSEEN_KINDS.has(entry.kind));
}

/**
 * Holds every delete of a user's object while some local entry could not be read or
 * named, unless the user insists (`force`): removes them from `plan.deletes` and returns
 * how many were held. Completions (temporary keys, moved sources) are never held.
 *
 * @example
 * ```ts
 * const plan = { deletes: [{ key: "a.jpg", size: 1, reason: "no local file", temporary: false }] };
 * holdDeletes(plan, { unseen: 1, force: false }); // 1; plan.deletes is empty
 * ```
 */
export function holdDeletes<T extends { temporary?: boolean }>(
  plan: { deletes: T[] },
  options: { unseen: number; force: boolean },
): number {
  if (options.unseen === 0 || options.force) return 0;
  const kept = plan.deletes.filter((action) => action.temporary);
  const held = plan.deletes.length - kept.length;
  plan.deletes = kept;
  return held;
}

/**
 * The delete guard applied to a plan: refuses every delete (throws, nothing changed)
 * when the directory looks unmounted or emptied. Returns how many deletes of users'
 * objects (not temporary keys or moved sources) are planned.
 *
 * @throws {DeleteRefusedError} when the guard refuses.
 *
 * @example
 * ```ts
 * guardPlannedDeletes([], { localFiles: 10, remoteObjects: 10 }); // 0
 * ```
 */
export function guardPlannedDeletes(
  deletes: readonly { temporary?: boolean }[],
  counts: { localFiles: number; remoteObjects: number; maxDelete?: number; force?: boolean },
): number {
  const userDeletes = deletes.filter((action) => !action.temporary).length;
  const refusal = deleteGuard({
    localFiles: counts.localFiles,
    remoteObjects: counts.remoteObjects,
    deletes: userDeletes,
    maxDelete: counts.maxDelete,
    force: counts.force,
  });
  if (refusal) throw new DeleteRefusedError(`Refusing to delete: ${refusal}. Nothing was changed.`);
  return userDeletes;
}
