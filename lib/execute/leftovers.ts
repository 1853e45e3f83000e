/**
 * Multipart uploads and copies a run that died left open: S3 bills their parts until they
 * are aborted. Each was noted in the state DB before it started; the next run aborts them.
 *
 * @module
 */
import type { ObjectStore } from "../s3/store.ts";

/**
 * Aborts the open multipart uploads to each of `keys` (full keys), telling `done` about
 * each key cleared. A key whose abort fails is tried again by the next run.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 * await abortLeftoverUploads(["photos/big.mov"], {
 *   store: new MemoryStore(),
 *   done: (key) => console.log("no upload left open to", key),
 * });
 * ```
 */
export async function abortLeftoverUploads(
  keys: readonly string[],
  options: { store: ObjectStore; done(key: string): void },
): Promise<void> {
  for (const key of keys) {
    try {
      await options.store.abortMultipartUploads(key);
      options.done(key);
    } catch {
      // Tried again next run.
    }
  }
}
