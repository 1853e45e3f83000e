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

/** Options of {@linkcode ObjectStore.upload}. */
export interface UploadOptions {
  /** Storage class for the new object; undefined keeps the bucket's default. */
  storageClass?: string;
  /** Content-Type header. */
  contentType?: string;
}

/** Options of {@linkcode ObjectStore.copy}. */
export interface CopyOptions {
  /** Storage class of the copy; must be given to keep a non-STANDARD class. */
  storageClass?: string;
  /** Copy only if the source still has this ETag. */
  ifMatch?: string;
  /**
   * Told before a multipart copy starts and after it completes, so that a copy a dead
   * run left open can be aborted by the next one.
   */
  onMultipart?: (state: "started" | "done") => void;
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
  /** Lists every object under `prefix`, a page at a time. */
  list(prefix: string): AsyncIterable<RemoteObject[]>;
  /** Uploads a local file to `key`; returns the new object's ETag. */
  upload(key: string, file: { path: string; size: number }, options?: UploadOptions): Promise<
    { etag?: string }
  >;
  /** Copies an object inside the bucket, keeping metadata, content type and tags. */
  copy(fromKey: string, toKey: string, options?: CopyOptions): Promise<void>;
  /** Deletes up to 1000 keys in one request; returns the keys that failed. */
  deleteMany(keys: readonly string[]): Promise<DeleteFailure[]>;
  /** HeadObject; undefined when the key does not exist. */
  head(key: string): Promise<ObjectHead | undefined>;
  /** Asks S3 to restore an archived object. */
  restore(key: string, options: RestoreOptions): Promise<RestoreOutcome>;
  /** Files at least this large are uploaded in parts (undefined: never). */
  readonly multipartThreshold?: number;
  /** Aborts every incomplete multipart upload to exactly this key; returns how many. */
  abortMultipartUploads(key: string): Promise<number>;
  /** Requests made so far: S3 operation name → count. */
  requestCounts(): Record<string, number>;
}
