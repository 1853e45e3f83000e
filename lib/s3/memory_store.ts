/**
 * An in-memory {@linkcode ObjectStore} for unit tests and benchmarks: a map of key →
 * object, listed like ListObjectsV2 in pages of 1000 keys in S3 order (by UTF-8 bytes).
 * Requests are counted by S3 operation name so that a test can check which requests a
 * run made; listings can be given a latency so that a benchmark shows what parallel
 * listing gains without a network.
 *
 * @module
 */
import { compareKeys } from "../scan/key_order.ts";
import { ARCHIVE_CLASSES } from "./archive.ts";
import type {
  CopyOptions,
  CopyResult,
  DeleteFailure,
  ListOptions,
  ObjectHead,
  ObjectStore,
  RemoteObject,
  RestoreOutcome,
  UploadOptions,
  UploadResult,
} from "./store.ts";
import { copyNeedsHead } from "./store.ts";

/** What the store keeps per key. */
export interface StoredObject {
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch (whole seconds, as S3 lists). */
  lastModifiedMs: number;
  /** ETag with quotes. */
  etag: string;
  /** Storage class; undefined: STANDARD. */
  storageClass?: string;
}

const PAGE_SIZE = 1000;

/** Options of {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Milliseconds each ListObjectsV2 request takes (default 0), as on a link where one S3
   * request takes 30–100 ms; requests in flight at once overlap, as over a network.
   */
  listLatencyMs?: number;
  /**
   * Serve objects of archive classes as they are (Ceph RGW, where classes are labels)
   * instead of refusing them until restored (S3). Default false.
   */
  servesArchived?: boolean;
}

/**
 * An {@linkcode ObjectStore} held in a `Map`; nothing is read from or written to disk.
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ listLatencyMs: 100 });
 * store.put("photos/a.jpg", { size: 5, lastModifiedMs: 1e12, etag: store.nextEtag() });
 * for await (const page of store.list("photos/", { startAfter: "photos/" })) {
 *   console.log(page.map((object) => object.key)); // ["photos/a.jpg"] after 100 ms
 * }
 * ```
 */
export class MemoryStore implements ObjectStore {
  /** The objects, by full key. */
  readonly objects = new Map<string, StoredObject>();
  #sorted: string[] | undefined;
  #counts: Record<string, number> = {};
  #etags = 0;
  readonly #listLatencyMs: number;
  readonly #servesArchived: boolean;

  constructor(options: MemoryStoreOptions = {}) {
    this.#listLatencyMs = options.listLatencyMs ?? 0;
    this.#servesArchived = options.servesArchived ?? false;
  }

  #count(operation: string): void {
    this.#counts[operation] = (this.#counts[operation] ?? 0) + 1;
  }

  /** Puts an object without counting a request (to pre-populate the bucket). */
  put(key: string, object: StoredObject): void {
    if (!this.objects.has(key)) this.#sorted = undefined;
    this.objects.set(key, object);
  }

  /** A new ETag, unique in this store. */
  nextEtag(): string {
    return `"${(++this.#etags).toString(16).padStart(32, "0")}"`;
  }

  /** Index of the first sorted key after `key` (at or after it when `inclusive`). */
  #firstAfter(keys: readonly string[], key: string, inclusive: boolean): number {
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareKeys(keys[middle]!, key);
      if (order < 0 || (order === 0 && !inclusive)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<RemoteObject[]> {
    let startAfter = options.startAfter;
    for (;;) {
      // Each page is answered from the keys as they are when it is requested, after the
      // last key of the previous page, as S3 does: objects put or deleted meanwhile show
      // (or not) as they would there.
      this.#count("ListObjectsV2");
      if (this.#listLatencyMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.#listLatencyMs));
      }
      // Sorting is the store's bookkeeping, not the listing the client pays for: cached.
      this.#sorted ??= [...this.objects.keys()].sort(compareKeys);
      const keys = this.#sorted;
      let index = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0
        ? this.#firstAfter(keys, startAfter, false)
        : this.#firstAfter(keys, prefix, true);
      const page: RemoteObject[] = [];
      for (; index < keys.length && page.length < PAGE_SIZE; index++) {
        const key = keys[index]!;
        if (!key.startsWith(prefix)) break;
        const object = this.objects.get(key)!;
        const listed: RemoteObject = {
          key,
          size: object.size,
          lastModifiedMs: object.lastModifiedMs,
          etag: object.etag,
        };
        if (object.storageClass !== undefined) listed.storageClass = object.storageClass;
        page.push(listed);
      }
      const truncated = index < keys.length && keys[index]!.startsWith(prefix);
      yield page;
      if (!truncated) return;
      startAfter = page.at(-1)!.key;
    }
  }

  upload(
    key: string,
    file: { path: string; size: number },
    options?: UploadOptions,
  ): Promise<UploadResult> {
    this.#count("PutObject");
    const etag = this.nextEtag();
    const storageClass = options?.storageClass === "STANDARD" ? undefined : options?.storageClass;
    this.put(key, {
      size: file.size,
      lastModifiedMs: Math.floor(Date.now() / 1000) * 1000,
      etag,
      ...(storageClass === undefined ? {} : { storageClass }),
    });
    return Promise.resolve({ etag, sse: options?.sse ?? "" });
  }

  copy(fromKey: string, toKey: string, options?: CopyOptions): Promise<CopyResult> {
    // The source's headers are read where the S3 store reads them (no copy in parts here).
    if (copyNeedsHead(options ?? {}, Infinity)) this.#count("HeadObject");
    this.#count("CopyObject");
    const source = this.objects.get(fromKey);
    // Errors named as the AWS SDK names S3's answers.
    if (!source) return Promise.reject(s3Error("NoSuchKey", `no object at ${fromKey}`));
    if (options?.ifMatch !== undefined && options.ifMatch !== source.etag) {
      return Promise.reject(s3Error("PreconditionFailed", `${fromKey} changed`));
    }
    if (this.#archived(source)) {
      return Promise.reject(s3Error("InvalidObjectState", `${fromKey} is archived`));
    }
    // Not given: the source's, as read from its headers.
    const given = options?.storageClass ?? source.storageClass ?? "STANDARD";
    const storageClass = given === "STANDARD" ? undefined : given;
    this.put(toKey, {
      size: source.size,
      etag: source.etag,
      lastModifiedMs: Math.floor(Date.now() / 1000) * 1000,
      ...(storageClass === undefined ? {} : { storageClass }),
    });
    // A copy in one request keeps the source's ETag, as in S3.
    return Promise.resolve({
      etag: source.etag,
      storageClass: given,
      sse: options?.sse ?? "",
    });
  }

  deleteMany(keys: readonly string[]): Promise<DeleteFailure[]> {
    this.#count("DeleteObjects");
    for (const key of keys) {
      if (this.objects.delete(key)) this.#sorted = undefined;
    }
    return Promise.resolve([]);
  }

  head(key: string): Promise<ObjectHead | undefined> {
    this.#count("HeadObject");
    const object = this.objects.get(key);
    return Promise.resolve(
      object && {
        size: object.size,
        etag: object.etag,
        ...(object.storageClass === undefined ? {} : { storageClass: object.storageClass }),
      },
    );
  }

  abortMultipartUploads(): Promise<number> {
    this.#count("ListMultipartUploads");
    return Promise.resolve(0);
  }

  restore(key: string): Promise<RestoreOutcome> {
    this.#count("RestoreObject");
    return Promise.resolve(this.objects.has(key) ? "not archived" : "started");
  }

  readable(key: string): Promise<boolean> {
    this.#count("GetObject");
    const object = this.objects.get(key);
    if (object === undefined) {
      return Promise.reject(
        Object.assign(new Error("The specified key does not exist."), {
          name: "NoSuchKey",
          $metadata: { httpStatusCode: 404 },
        }),
      );
    }
    return Promise.resolve(!this.#archived(object));
  }

  /** True when the object may not be read or copied until restored. */
  #archived(object: StoredObject): boolean {
    return !this.#servesArchived && object.storageClass !== undefined &&
      ARCHIVE_CLASSES.has(object.storageClass);
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

function s3Error(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}
