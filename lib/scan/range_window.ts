/**
 * The machinery behind `listInOrder`: key ranges listed concurrently within a window that
 * slides as the consumer takes their pages in order.
 *
 * @module
 */
import type { ObjectStore, RemoteObject } from "../s3/store.ts";
import { compareKeys } from "./key_order.ts";

/** A key range: the keys after `startAfter` (from the start: undefined), up to `end` included. */
export interface KeyRange {
  /** The range starts after this full key; undefined: at the start of the prefix. */
  startAfter: string | undefined;
  /** The last key the range may hold; undefined: up to the end of the prefix. */
  end: string | undefined;
}

/** How many ranges a window fetches at once and how far each reads ahead. */
export interface WindowLimits {
  /** Ranges in the window (fetching, or fetched and waiting for the consumer). */
  concurrency: number;
  /** Pages a range may hold before it waits for the consumer. */
  pagesAhead: number;
}

/** Wakes whoever waits on it; waiting again needs a new `wait()`. */
class Signal {
  #waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A range being listed: the pages not yet taken by the consumer. */
class RangeListing {
  readonly pages: RemoteObject[][] = [];
  /** No page will be added. */
  done = false;
  /** Notified when the consumer takes a page, or the window stops. */
  readonly room = new Signal();

  constructor(readonly range: KeyRange) {}
}

/**
 * The objects of `page` up to `end` (included), and whether the range is complete: the
 * page reached or passed `end`, so the next one would lie wholly beyond it.
 */
function upTo(
  page: RemoteObject[],
  end: string | undefined,
): { objects: RemoteObject[]; complete: boolean } {
  if (end === undefined || page.length === 0) return { objects: page, complete: false };
  const last = compareKeys(page[page.length - 1]!.key, end);
  if (last < 0) return { objects: page, complete: false };
  if (last === 0) return { objects: page, complete: true };
  let low = 0;
  let high = page.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(page[middle]!.key, end) <= 0) low = middle + 1;
    else high = middle;
  }
  return { objects: page.slice(0, low), complete: true };
}

/**
 * Lists `ranges` of one prefix, at most `limits.concurrency` at once starting with the one
 * the consumer reads, and hands their pages out in range order through `next()`.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "../s3/memory_store.ts";
 *
 * const window = new RangeWindow(new MemoryStore(), "p/", [
 *   { startAfter: undefined, end: "p/m" },
 *   { startAfter: "p/m", end: undefined },
 * ], { concurrency: 2, pagesAhead: 4 });
 * try {
 *   for (let page = await window.next(); page; page = await window.next()) console.log(page);
 * } finally {
 *   await window.stop();
 * }
 * ```
 */
export class RangeWindow {
  /** Started and not yet fully consumed, in key order: the first is the consumer's. */
  readonly #window: RangeListing[] = [];
  #nextRange = 0;
  readonly #fetches = new Set<Promise<void>>();
  /** Wakes the consumer: a page arrived, a range ended, or the listing failed. */
  readonly #changed = new Signal();
  #stopped = false;
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly ranges: readonly KeyRange[],
    private readonly limits: WindowLimits,
  ) {}

  /**
   * The next page in key order, or undefined when every range is consumed.
   *
   * @throws The first error any range met.
   */
  async next(): Promise<RemoteObject[] | undefined> {
    for (;;) {
      this.#fill(); // may fail at once, when a store cannot even start a listing
      if (this.#failure) throw this.#failure.error;
      const current = this.#window[0];
      if (current === undefined) return undefined;
      const page = current.pages.shift();
      if (page !== undefined) {
        current.room.notify();
        return page;
      }
      if (current.done) this.#window.shift();
      else await this.#changed.wait();
    }
  }

  /** Stops every range and waits for the requests in flight to end. */
  async stop(): Promise<void> {
    this.#halt();
    await Promise.all(this.#fetches);
  }

  #halt(): void {
    this.#stopped = true;
    for (const listing of this.#window) listing.room.notify();
    this.#window.length = 0;
    this.#changed.notify();
  }

  #fill(): void {
    while (
      !this.#stopped && this.#window.length < this.limits.concurrency &&
      this.#nextRange < this.ranges.length
    ) {
      const listing = new RangeListing(this.ranges[this.#nextRange++]!);
      this.#window.push(listing);
      const fetching = this.#fetch(listing).finally(() => this.#fetches.delete(fetching));
      this.#fetches.add(fetching);
    }
  }

  /** Lists one range into its buffer; never rejects (errors go to `#failure`). */
  async #fetch(listing: RangeListing): Promise<void> {
    const { startAfter, end } = listing.range;
    let pages: AsyncIterator<RemoteObject[]> | undefined;
    try {
      pages = this.store.list(this.prefix, startAfter === undefined ? {} : { startAfter })[
        Symbol.asyncIterator
      ]();
      while (!this.#stopped) {
        if (listing.pages.length >= this.limits.pagesAhead) {
          await listing.room.wait();
          continue;
        }
        const result = await pages.next();
        if (result.done) {
          pages = undefined;
          break;
        }
        if (this.#stopped) break;
        const { objects, complete } = upTo(result.value, end);
        if (objects.length > 0) listing.pages.push(objects);
        this.#changed.notify();
        if (complete) break;
      }
    } catch (error) {
      pages = undefined; // a generator that threw is closed
      this.#fail(error);
    } finally {
      listing.done = true;
      this.#changed.notify();
    }
    try {
      // Ends the store's stream between requests: sends nothing, frees what it holds.
      await pages?.return?.();
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
    this.#halt();
  }
}
