/**
 * Stops a run soon after S3 becomes unreachable, instead of failing every remaining
 * file one by one after its retries. Wraps any {@linkcode ObjectStore}.
 *
 * @module
 */
import { errorMessage, OperationError } from "../errors.ts";
import type { ObjectStore } from "./store.ts";
import { isNetworkError } from "./errors.ts";

/** Thrown by every call once the store has been found unreachable. */
export class StoreUnreachableError extends OperationError {
  override name = "StoreUnreachableError";
}

/**
 * An {@linkcode ObjectStore} that counts consecutive network failures (each already
 * retried by the SDK) and, past `threshold`, fails every further call at once with a
 * {@linkcode StoreUnreachableError}.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memory_store.ts";
 *
 * const store = guardUnreachable(new MemoryStore(), { threshold: 3 });
 * ```
 */
export function guardUnreachable(
  store: ObjectStore,
  options: { threshold?: number } = {},
): ObjectStore {
  const threshold = options.threshold ?? 3;
  let consecutive = 0;
  let inRow = 0;
  let tripped: StoreUnreachableError | undefined;
  const guard = async <T>(call: () => Promise<T>, weight = 1): Promise<T> => {
    if (tripped) throw tripped;
    try {
      const result = await call();
      consecutive = 0;
      inRow = 0;
      return result;
    } catch (error) {
      if (!isNetworkError(error)) {
        consecutive = 0;
        inRow = 0;
        throw error;
      }
      consecutive += weight;
      inRow++;
      if (consecutive >= threshold) {
        tripped ??= new StoreUnreachableError(
          `S3 became unreachable (${errorMessage(error)}); stopped after ${inRow} failed request${
            inRow === 1 ? "" : "s"
          } in a row. Work done so far is recorded; run again when S3 is back.`,
        );
        throw tripped;
      }
      throw error;
    }
  };
  return {
    list: (prefix, listOptions) => store.list(prefix, listOptions),
    upload: (key, file, uploadOptions) => guard(() => store.upload(key, file, uploadOptions)),
    copy: (fromKey, toKey, copyOptions) => guard(() => store.copy(fromKey, toKey, copyOptions)),
    // One DeleteObjects carries up to 1,000 keys, each the end of a move, after the SDK's
    // retries: when it cannot reach S3, S3 is gone for this run.
    deleteMany: (keys) => guard(() => store.deleteMany(keys), threshold),
    head: (key) => guard(() => store.head(key)),
    restore: (key, restoreOptions) => guard(() => store.restore(key, restoreOptions)),
    readable: (key) => guard(() => store.readable(key)),
    uploadsInParts: (size) => store.uploadsInParts?.(size) ?? false,
    abortMultipartUploads: (key) => guard(() => store.abortMultipartUploads(key)),
    requestCounts: () => store.requestCounts(),
  };
}
