/**
 * Which archived sources of deferred moves S3 has restored: one HeadObject per source that
 * `restore` asked S3 to restore. A restored object can be copied, so its move is made.
 *
 * @module
 */
import { runPool } from "../pool.ts";
import { parseRestore } from "../s3/archive.ts";
import type { ObjectStore } from "../s3/store.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";

/**
 * The keys (relative to `prefix`) among `keys` whose restore S3 reports as done.
 *
 * @throws {StoreUnreachableError} when S3 stopped answering.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 * const restored = await restoredSources(["a.jpg"], { store: new MemoryStore(), prefix: "" });
 * console.log(restored.size); // 0
 * ```
 */
export async function restoredSources(
  keys: readonly string[],
  options: { store: ObjectStore; prefix: string; concurrency?: number },
): Promise<Set<string>> {
  const restored = new Set<string>();
  await runPool(keys, {
    concurrency: options.concurrency ?? 10,
    worker: async (key) => {
      try {
        const head = await options.store.head(options.prefix + key);
        if (head && parseRestore(head.restore).state === "restored") restored.add(key);
      } catch (error) {
        if (error instanceof StoreUnreachableError) throw error;
        // Unknown: the move stays deferred and is checked again next run.
      }
    },
  });
  return restored;
}
