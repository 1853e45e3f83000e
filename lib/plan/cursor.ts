/**
 * A cursor over a stream that arrives in batches (pages of a listing, pages of state rows,
 * batches of the scan): the merge looks at the head of each stream and takes it, and
 * waits only when a batch is used up, not once per item.
 *
 * @module
 */

/**
 * Reads `source` a batch at a time.
 *
 * @example
 * ```ts
 * const cursor = new BatchCursor([[1, 2], [3]]);
 * while (await cursor.ready()) console.log(cursor.take()); // 1, 2, 3
 * ```
 */
export class BatchCursor<T> {
  readonly #iterator: AsyncIterator<T[]> | Iterator<T[]>;
  #batch: T[] = [];
  #index = 0;
  #done = false;

  constructor(source: AsyncIterable<T[]> | Iterable<T[]>) {
    this.#iterator = Symbol.asyncIterator in source
      ? (source as AsyncIterable<T[]>)[Symbol.asyncIterator]()
      : (source as Iterable<T[]>)[Symbol.iterator]();
  }

  /** Makes sure a head is there, reading the next batch if needed; false at the end. */
  async ready(): Promise<boolean> {
    while (this.#index >= this.#batch.length) {
      if (this.#done) return false;
      const next = await this.#iterator.next();
      if (next.done) {
        this.#done = true;
        this.#batch = [];
        this.#index = 0;
        return false;
      }
      this.#batch = next.value;
      this.#index = 0;
    }
    return true;
  }

  /** The head, or undefined when the current batch is used up (call `ready` first). */
  peek(): T | undefined {
    return this.#index < this.#batch.length ? this.#batch[this.#index] : undefined;
  }

  /** Takes the head (call `ready` first). */
  take(): T {
    return this.#batch[this.#index++]!;
  }

  /** Stops the source early (closes a generator, cancels a stream). */
  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#iterator.return?.();
    }
  }
}
