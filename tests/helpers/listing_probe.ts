/**
 * Instruments for listing tests: an {@linkcode ObjectStore} wrapper that records how many
 * list requests were in flight at once and how many objects were fetched, and can fail a
 * chosen request; and a key set with the names that trip up sorting.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { MemoryStore } from "../../lib/s3/memory_store.ts";
import type { ListOptions, ObjectStore, RemoteObject } from "../../lib/s3/store.ts";

/** What a {@linkcode ListingProbe} saw. */
export interface ProbeStats {
  /** List requests (pages received or failed) so far. */
  requests: number;
  /** Requests in flight now. */
  inFlight: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Objects in the pages the store returned. */
  fetched: number;
  /** Objects the test marked consumed with {@linkcode ListingProbe.consumed}. */
  consumed: number;
  /** Most objects fetched and not yet consumed at any moment. */
  maxUnconsumed: number;
  /** The `startAfter` of each `list` call, in call order. */
  starts: Array<string | undefined>;
}

/** Wraps a store's `list`; everything else is delegated unchanged. */
export class ListingProbe {
  readonly stats: ProbeStats = {
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    fetched: 0,
    consumed: 0,
    maxUnconsumed: 0,
    starts: [],
  };
  /** The wrapped store, to hand to the code under test. */
  readonly store: ObjectStore;

  /**
   * @param inner The store to wrap.
   * @param failOn Returns an error to throw instead of answering request number `n`
   *   (counted from 1 over all ranges) of the listing that started after `startAfter`.
   */
  constructor(
    inner: ObjectStore,
    failOn?: (n: number, startAfter: string | undefined) => Error | undefined,
  ) {
    const stats = this.stats;
    const list = (prefix: string, options?: ListOptions): AsyncIterable<RemoteObject[]> => ({
      async *[Symbol.asyncIterator]() {
        stats.starts.push(options?.startAfter);
        const pages = inner.list(prefix, options)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const n = ++stats.requests;
            stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
            let result: IteratorResult<RemoteObject[]>;
            try {
              result = await pages.next();
              const error = failOn?.(n, options?.startAfter);
              if (error) throw error;
            } finally {
              stats.inFlight--;
            }
            // The call that finds the stream ended sends no request.
            if (result.done) {
              stats.requests--;
              return;
            }
            stats.fetched += result.value.length;
            stats.maxUnconsumed = Math.max(stats.maxUnconsumed, stats.fetched - stats.consumed);
            yield result.value;
          }
        } finally {
          await pages.return?.();
        }
      },
    });
    this.store = new Proxy(inner, {
      get: (target, name, receiver) => name === "list" ? list : Reflect.get(target, name, receiver),
    });
  }

  /** Marks `count` objects as taken by the consumer. */
  consumed(count: number): void {
    this.stats.consumed += count;
  }
}

/** Compares keys by their UTF-8 bytes with Node's Buffer: independent of the code under test. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A small seeded random number generator (mulberry32): tests that replay. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Name parts that sort differently as UTF-16 and as UTF-8, or that are prefixes of each
 * other, or sort just around "/".
 */
export const NASTY_PARTS: readonly string[] = [
  "a",
  "a-b",
  "a.b",
  "a b",
  "a0",
  "a!",
  "ab",
  "A",
  "-",
  ".",
  "0",
  " lead",
  "trail ",
  "+",
  "%20",
  "~",
  "é",
  "e\u0301",
  "日本",
  "😀",
  "\uFFFD",
  "\uE000",
  "\uFF01",
  "𝄞",
  "z",
];

/**
 * `count` distinct keys under `prefix` built from {@linkcode NASTY_PARTS} (one to three
 * levels, plus a number), including `prefix` itself as a folder marker.
 */
export function nastyKeys(prefix: string, count: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const pick = () => NASTY_PARTS[Math.floor(random() * NASTY_PARTS.length)]!;
  const keys = new Set<string>([prefix]);
  while (keys.size < count) {
    const depth = 1 + Math.floor(random() * 3);
    const parts = Array.from({ length: depth }, pick);
    const suffix = random() < 0.3 ? "" : String(Math.floor(random() * 1000));
    keys.add(prefix + parts.join("/") + suffix);
  }
  return [...keys];
}

/** A MemoryStore holding `keys` (one byte each). */
export function storeWith(keys: Iterable<string>, options: { listLatencyMs?: number } = {}) {
  const store = new MemoryStore(options);
  for (const key of keys) store.put(key, { size: 1, lastModifiedMs: 0, etag: store.nextEtag() });
  return store;
}
