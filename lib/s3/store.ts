/**
 * The object store interface the engine talks to. `s3_store.ts` implements it with
 * the AWS SDK; tests run it against a real S3 server.
 *
 * @module
 */

/** An object as listed by the store. */
export interface RemoteObject {
  /** Full key. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time, ms since the epoch (S3 lists whole seconds). */
  lastModifiedMs: number;
  /** ETag as listed, with its quotes. */
  etag?: string;
  /** Storage class; undefined means STANDARD. */
  storageClass?: string;
}

/** Options of {@linkcode ObjectStore.list}. */
export interface ListOptions {
  /**
   * A full key: list only the keys after it (ListObjectsV2 `StartAfter`). It need not
   * exist, and may sort before the prefix (then it changes nothing).
   */
  startAfter?: string;
}

/** Options of {@linkcode ObjectStore.upload}. */
export interface UploadOptions {
  /** Storage class for the new object; undefined keeps the bucket's default. */
  storageClass?: string;
  /** Content-Type header. */
  contentType?: string;
  /** Encryption as the state records it ("", "AES256", "aws:kms|KEY"); default: the store's. */
  sse?: string;
  /** Told the bytes sent as parts of a large upload go out (the rest when it completes). */
  onProgress?(bytes: number): void;
  /** Stops the upload (an interrupted run): the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What an upload made. */
export interface UploadResult {
  /** The new object's ETag (with quotes), if the server said. */
  etag?: string;
  /**
   * How the object was asked to be encrypted: "" nothing (the bucket's default), "AES256",
   * "aws:kms" or "aws:kms:KEY-ID" — what a copy must ask for to keep it.
   */
  sse?: string;
}

/** Options of {@linkcode ObjectStore.copy}. */
export interface CopyOptions {
  /**
   * Storage class of the source, kept by the copy ("STANDARD" included); undefined when
   * not known: the store reads it from the source first.
   */
  storageClass?: string;
  /**
   * The source's encryption as recorded ("" the bucket's default, "AES256", "aws:kms",
   * "aws:kms:KEY-ID"); undefined when not known: the store reads it from the source first.
   */
  sse?: string;
  /** The source's size, if known (larger than CopyObject's limit: copied in parts). */
  size?: number;
  /** Copy only if the source still has this ETag. */
  ifMatch?: string;
  /**
   * Check the source first (HeadObject with If-Match) even where nothing else needs its
   * headers: for a copy made on a recorded ETag, not a fresh listing, on a server that may
   * ignore the copy's own precondition (moto does; RGW reads it under another name).
   */
  checkSource?: boolean;
  /**
   * Told before a multipart copy starts and after it completes, so that a copy a dead
   * run left open can be aborted by the next one.
   */
  onMultipart?: (state: "started" | "done") => void;
}

/**
 * Whether a copy must read its source's headers first: when the caller does not know its
 * class, encryption, ETag (for the condition) or size, when asked to check the source,
 * or when the copy is made in parts (above `partsFrom` bytes), which needs its metadata.
 *
 * @example
 * ```ts
 * copyNeedsHead({ storageClass: "STANDARD", sse: "", ifMatch: '"e"', size: 5 }, 5 * 1024 ** 3); // false
 * ```
 */
export function copyNeedsHead(options: CopyOptions, partsFrom: number): boolean {
  return options.checkSource === true || options.storageClass === undefined ||
    options.sse === undefined || options.ifMatch === undefined || options.size === undefined ||
    options.size > partsFrom;
}

/** What a copy made. */
export interface CopyResult {
  /** The new object's ETag (with quotes), if the server said. */
  etag?: string;
  /** Its storage class, when the store learned it (from the source's headers). */
  storageClass?: string;
  /** Its encryption, when the store learned it (see {@linkcode CopyOptions.sse}). */
  sse?: string;
}

/** A key that DeleteObjects could not delete. */
export interface DeleteFailure {
  /** The key. */
  key: string;
  /** S3's error code and message. */
  message: string;
}

/** What HeadObject says about an object. */
export interface ObjectHead {
  /** Size in bytes. */
  size: number;
  /** Storage class; undefined means STANDARD. */
  storageClass?: string;
  /** The raw `x-amz-restore` value, if any (see `parseRestore` in archive.ts). */
  restore?: string;
  /** Intelligent-Tiering archive tier (ARCHIVE_ACCESS, DEEP_ARCHIVE_ACCESS), if any. */
  archiveStatus?: string;
  /** ETag with quotes. */
  etag?: string;
}

/** Options of {@linkcode ObjectStore.restore}. */
export interface RestoreOptions {
  /** Days the restored copy stays; must be omitted for Intelligent-Tiering objects. */
  days?: number;
  /** Retrieval tier. */
  tier: "Standard" | "Bulk" | "Expedited";
}

/** What a RestoreObject request achieved. */
export type RestoreOutcome = "started" | "already restored" | "in progress" | "not archived";

/** Everything the engine needs from S3, for one bucket. */
export interface ObjectStore {
  /**
   * Lists every object under `prefix` (after `options.startAfter`, when given), a page at
   * a time, in key order: by the UTF-8 bytes of the keys, as S3 sorts them. A page may be
   * empty. Each page is one ListObjectsV2 request, sent when the consumer asks for the
   * page, so a consumer that stops asking stops the listing.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<RemoteObject[]>;
  /** Uploads a local file to `key`; says what it made. */
  upload(
    key: string,
    file: { path: string; size: number },
    options?: UploadOptions,
  ): Promise<UploadResult>;
  /**
   * Copies an object inside the bucket, keeping metadata, content type, tags, storage
   * class and encryption; reads the source's headers first only where the options do not
   * say what the copy needs.
   */
  copy(fromKey: string, toKey: string, options?: CopyOptions): Promise<CopyResult>;
  /** Deletes up to 1000 keys in one request; returns the keys that failed. */
  deleteMany(keys: readonly string[]): Promise<DeleteFailure[]>;
  /** HeadObject; undefined when the key does not exist. */
  head(key: string): Promise<ObjectHead | undefined>;
  /** Asks S3 to restore an archived object. */
  restore(key: string, options: RestoreOptions): Promise<RestoreOutcome>;
  /**
   * Whether the server serves the object's bytes now (a GET of its first byte): false
   * when it answers that the object is archived and must be restored first, as S3 does
   * for GLACIER and DEEP_ARCHIVE; true where archive classes are only labels (Ceph RGW).
   * Throws what the GET throws otherwise (the key does not exist, access denied…).
   */
  readable(key: string): Promise<boolean>;
  /**
   * Whether {@linkcode ObjectStore.upload} sends a file of `size` bytes as a multipart
   * upload (which a killed run can leave behind, to abort later) rather than one PutObject.
   * Absent: never.
   */
  uploadsInParts?(size: number): boolean;
  /** Aborts every incomplete multipart upload to exactly this key; returns how many. */
  abortMultipartUploads(key: string): Promise<number>;
  /** Requests made so far: S3 operation name → count. */
  requestCounts(): Record<string, number>;
}
