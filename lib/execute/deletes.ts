/**
 * Deletes in DeleteObjects batches of up to 1,000 keys, each key's answer checked: the one
 * place that sends deletes, for the keys of vanished files and the sources of moves alike.
 *
 * @module
 */
import { runPool } from "../pool.ts";
import { s3ErrorText } from "../s3/errors.ts";
import type { ObjectStore } from "../s3/store.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";

/** Keys DeleteObjects takes at most. */
export const DELETE_BATCH = 1000;

/** What to delete and what to do with each answer. */
export interface DeleteBatchesOptions<T> {
  /** The bucket. */
  store: ObjectStore;
  /** Key prefix ("" or ending in "/"). */
  prefix: string;
  /** The key of an item, relative to the prefix. */
  keyOf(item: T): string;
  /** DeleteObjects requests in flight at most. */
  concurrency: number;
  /** Told each batch's deleted items, before the next answer is read. */
  deleted(items: T[]): void;
  /** Told each item that could not be deleted, with S3's reason. */
  failed(item: T, message: string): void;
  /** Set when the run is interrupted: no batch starts; those under way finish. */
  signal?: AbortSignal;
}

/**
 * Deletes `items` in batches of up to 1,000 keys. A batch that fails as a whole fails each
 * of its keys; a stop because S3 became unreachable is rethrown.
 *
 * @throws {StoreUnreachableError} when S3 stopped answering.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 * await deleteInBatches(["a.jpg", "b.jpg"], {
 *   store: new MemoryStore(),
 *   prefix: "photos/",
 *   keyOf: (key) => key,
 *   concurrency: 4,
 *   deleted: (keys) => console.log("deleted", keys.length),
 *   failed: (key, message) => console.log(key, message),
 * });
 * ```
 */
export async function deleteInBatches<T>(
  items: readonly T[],
  options: DeleteBatchesOptions<T>,
): Promise<void> {
  const { store, prefix, keyOf } = options;
  const batches: T[][] = [];
  for (let index = 0; index < items.length; index += DELETE_BATCH) {
    batches.push(items.slice(index, index + DELETE_BATCH));
  }
  await runPool(batches, {
    concurrency: options.concurrency,
    signal: options.signal,
    worker: async (batch) => {
      let failures;
      try {
        failures = await store.deleteMany(batch.map((item) => prefix + keyOf(item)));
      } catch (error) {
        if (error instanceof StoreUnreachableError) throw error;
        failures = batch.map((item) => ({
          key: prefix + keyOf(item),
          message: s3ErrorText(error),
        }));
      }
      const failed = new Map(failures.map((failure) => [failure.key, failure.message]));
      const done: T[] = [];
      for (const item of batch) {
        const message = failed.get(prefix + keyOf(item));
        if (message === undefined) done.push(item);
        else options.failed(item, message);
      }
      if (done.length > 0) options.deleted(done);
    },
  });
}
