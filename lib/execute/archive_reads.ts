/**
 * Whether moves whose source is in an archive class (GLACIER, DEEP_ARCHIVE) must wait for
 * a restore. On S3 they must: it refuses to copy such objects. Ceph RGW keeps storage
 * classes as labels, serves such objects as they are and answers RestoreObject with 501
 * NotImplemented: waiting there would wait forever. So on a custom endpoint the first run
 * that meets an archived source reads its first byte, once, and the target's state keeps
 * the answer.
 *
 * @module
 */
import type { ObjectStore } from "../s3/store.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";

/** What {@linkcode archivedMovesWait} decided, and what it learned of the server. */
export interface ArchiveVerdict {
  /** Moves from archived sources wait for a restore (S3's semantics). */
  wait: boolean;
  /** What a probe found out, to keep in the state: the server serves archived objects. */
  learned?: boolean;
}

/**
 * Decides whether moves from archived sources wait for a restore.
 *
 * @param context `aws`: the target is S3 itself (no custom endpoint); `known`: what the
 *   state learned before; `probeKey`: the full key of an archived source this run would
 *   move, if any (nothing to decide without one).
 * @returns the verdict.
 * @throws {StoreUnreachableError} when S3 stopped answering.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 *
 * const store = new MemoryStore({ servesArchived: true });
 * store.put("p/a.jpg", { size: 1, lastModifiedMs: 0, etag: '"e"', storageClass: "GLACIER" });
 * await archivedMovesWait({ aws: false, known: undefined, store, probeKey: "p/a.jpg" });
 * // { wait: false, learned: true }
 * ```
 */
export async function archivedMovesWait(context: {
  aws: boolean;
  known: boolean | undefined;
  store: ObjectStore;
  probeKey: string | undefined;
}): Promise<ArchiveVerdict> {
  if (context.aws) return { wait: true };
  if (context.known !== undefined) return { wait: !context.known };
  if (context.probeKey === undefined) return { wait: true };
  try {
    const reads = await context.store.readable(context.probeKey);
    return { wait: !reads, learned: reads };
  } catch (error) {
    if (error instanceof StoreUnreachableError) throw error;
    // The object vanished or cannot be read: S3's semantics, and ask again next time.
    return { wait: true };
  }
}
