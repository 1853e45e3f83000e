/**
 * A bench-only, in-memory {@linkcode ObjectStore}: a map of key → object, listed in
 * pages of 1000 keys in sorted order like ListObjectsV2. Requests are counted by S3
 * operation name so that a benchmark can check which requests a run made.
 *
 * @module
 */
import type {
  CopyOptions,
  DeleteFailure,
  ObjectHead,
  ObjectStore,
  RemoteObject,
  RestoreOutcome,
  UploadOptions,
} from "./store.ts";

/** What the store keeps per key. */
export interface StoredObject {
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch (whole seconds, as S3 lists). */
  lastModifiedMs: number;
  /** ETag with quotes. */
  etag: string;
}

const PAGE_SIZE = 1000;

/** An {@linkcode ObjectStore} held in a `Map`; nothing is read from or written to disk. */
export class MemoryStore implements ObjectStore {
  /** The objects, by full key. */
  readonly objects = new Map<string, StoredObject>();
  #sorted: string[] | undefined;
  #counts: Record<string, number> = {};
  #etags = 0;

  #count(operation: string): void {
    this.#counts[operation] = (this.#counts[operation] ?? 0) + 1;
  }

  /** Puts an object without counting a request (to pre-populate the bucket). */
  put(key: string, object: StoredObject): void {
    this.objects.set(key, object);
    this.#sorted = undefined;
  }

  /** A new ETag, unique in this store. */
  nextEtag(): string {
    return `"${(++this.#etags).toString(16).padStart(32, "0")}"`;
  }

  async *list(prefix: string): AsyncIterable<RemoteObject[]> {
    // Sorting is the store's bookkeeping, not the listing the client pays for: cached.
    this.#sorted ??= [...this.objects.keys()].sort();
    const keys = this.#sorted;
    let index = 0;
    while (index < keys.length && keys[index]! < prefix) index++;
    do {
      this.#count("ListObjectsV2");
      const page: RemoteObject[] = [];
      while (index < keys.length && page.length < PAGE_SIZE) {
        const key = keys[index]!;
        if (!key.startsWith(prefix)) {
          index = keys.length;
          break;
        }
        const object = this.objects.get(key)!;
        page.push({
          key,
          size: object.size,
          lastModifiedMs: object.lastModifiedMs,
          etag: object.etag,
        });
        index++;
      }
      yield page;
    } while (index < keys.length);
  }

  upload(
    key: string,
    file: { path: string; size: number },
    _options?: UploadOptions,
  ): Promise<{ etag?: string }> {
    this.#count("PutObject");
    const etag = this.nextEtag();
    this.put(key, {
      size: file.size,
      lastModifiedMs: Math.floor(Date.now() / 1000) * 1000,
      etag,
    });
    return Promise.resolve({ etag });
  }

  copy(fromKey: string, toKey: string, options?: CopyOptions): Promise<void> {
    this.#count("CopyObject");
    const source = this.objects.get(fromKey);
    if (!source) return Promise.reject(new Error(`NoSuchKey: ${fromKey}`));
    if (options?.ifMatch !== undefined && options.ifMatch !== source.etag) {
      return Promise.reject(new Error(`PreconditionFailed: ${fromKey}`));
    }
    this.put(toKey, { ...source, lastModifiedMs: Math.floor(Date.now() / 1000) * 1000 });
    return Promise.resolve();
  }

  deleteMany(keys: readonly string[]): Promise<DeleteFailure[]> {
    this.#count("DeleteObjects");
    for (const key of keys) this.objects.delete(key);
    this.#sorted = undefined;
    return Promise.resolve([]);
  }

  head(key: string): Promise<ObjectHead | undefined> {
    this.#count("HeadObject");
    const object = this.objects.get(key);
    return Promise.resolve(object && { size: object.size, etag: object.etag });
  }

  abortMultipartUploads(): Promise<number> {
    this.#count("ListMultipartUploads");
    return Promise.resolve(0);
  }

  restore(key: string): Promise<RestoreOutcome> {
    this.#count("RestoreObject");
    return Promise.resolve(this.objects.has(key) ? "not archived" : "started");
  }

  requestCounts(): Record<string, number> {
    return { ...this.#counts };
  }
}

/** `after − before`, per operation, leaving out zeros. */
export function requestDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [operation, count] of Object.entries(after)) {
    const difference = count - (before[operation] ?? 0);
    if (difference !== 0) delta[operation] = difference;
  }
  return delta;
}
