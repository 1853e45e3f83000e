/**
 * Which archived sources of deferred moves S3 has restored: one HeadObject per source that
 * `restore` asked S3 to restore. A restored object can be copied, so its move is made.
 *
 * @module
 */
import { runPool } from "../pool.ts";
import type { Displaced } from "../plan/merge.ts";
import { ARCHIVE_CLASSES, parseRestore } from "../s3/archive.ts";
import type { ObjectStore } from "../s3/store.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";

/**
 * The keys (relative to `prefix`) among `keys` whose restore S3 reports as done.
 *
 * @throws {StoreUnreachableError} when S3 stopped answering.
 */
async function restoredSources(
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

/**
 * Marks as restored the displaced rows' objects whose restore `restore` requested and S3
 * reports as done (one HeadObject each), so that their moves are made.
 *
 * @throws {StoreUnreachableError} when S3 stopped answering.
 *
 * @example
 * ```ts ignore
 * await markRestored(classification.displaced, { requested, store, prefix: "photos/" });
 * ```
 */
export async function markRestored(
  displaced: readonly Displaced[],
  options: { requested: ReadonlySet<string>; store: ObjectStore; prefix: string },
): Promise<void> {
  if (options.requested.size === 0) return;
  const candidates = displaced.filter((entry) =>
    options.requested.has(entry.record.path) &&
    ARCHIVE_CLASSES.has(entry.listed?.storageClass ?? "")
  );
  const restored = await restoredSources(candidates.map((entry) => entry.record.path), {
    store: options.store,
    prefix: options.prefix,
  });
  for (const entry of candidates) {
    if (restored.has(entry.record.path)) entry.listed = { ...entry.listed!, restored: true };
  }
}
