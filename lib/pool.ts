/**
 * Bounded concurrency for async work.
 *
 * @module
 */

/**
 * Calls `worker` for every item with at most `concurrency` calls running at once, and
 * resolves when all have settled. `worker` should handle its own errors; one that
 * escapes stops new items from starting and is rethrown at the end. Once `signal` is
 * aborted no new item starts; those under way finish.
 *
 * @example
 * ```ts
 * await runPool([30, 10, 20], {
 *   concurrency: 2,
 *   worker: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
 * });
 * ```
 */
export async function runPool<T>(
  items: Iterable<T>,
  options: { concurrency: number; worker: (item: T) => Promise<void>; signal?: AbortSignal },
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && !options.signal?.aborted) {
      const next = iterator.next();
      if (next.done) return;
      try {
        await options.worker(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const lanes = Array.from({ length: Math.max(1, options.concurrency) }, lane);
  await Promise.all(lanes);
  if (failure) throw failure.error;
}
