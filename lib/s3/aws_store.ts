/**
 * {@linkcode ObjectStore} implemented with `@aws-sdk/client-s3` and
 * `@aws-sdk/lib-storage` (the client's set-up is client.ts's).
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createReadStream } from "node:fs";
import { COPY_OBJECT_LIMIT, multipartCopy, simpleCopy } from "./multipart_copy.ts";
import type {
  CopyOptions,
  CopyResult,
  DeleteFailure,
  ListOptions,
  ObjectHead,
  ObjectStore,
  RemoteObject,
  RestoreOptions,
  RestoreOutcome,
  UploadOptions,
  UploadResult,
} from "./store.ts";
import { copyNeedsHead } from "./store.ts";
import {
  deleteErrorText,
  isArchivedError,
  isNotFound,
  restoreOutcomeOfError,
  s3ErrorText,
  statusOf,
} from "./errors.ts";
import { partSizeFor } from "./parts.ts";
import { compareKeys } from "../scan/key_order.ts";
import { encryptionFields, quotedEtag, sseString } from "./encryption.ts";
import { decodeKey, fastListCommand, type ListPage } from "./list_page.ts";
import type { S3StoreOptions } from "./client.ts";

const MiB = 1024 * 1024;

// deno-lint-ignore no-control-regex
const XML_UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;

/**
 * A listed page as {@linkcode parseListPage} read it, or — where the fast reader was not
 * installed or passed the answer on — as the SDK parsed it.
 */
function pageOf(output: ListObjectsV2CommandOutput): ListPage {
  const fast = (output as { $page?: ListPage }).$page;
  if (fast) return fast;
  const decode = output.EncodingType === "url" ? decodeKey : (key: string) => key;
  return {
    objects: (output.Contents ?? []).map((object) => ({
      key: decode(object.Key!),
      size: object.Size ?? 0,
      lastModifiedMs: object.LastModified?.getTime() ?? 0,
      etag: object.ETag,
      storageClass: object.StorageClass === "STANDARD" ? undefined : object.StorageClass,
    })),
    isTruncated: output.IsTruncated ?? false,
    nextContinuationToken: output.NextContinuationToken,
  };
}

/** Encodes a CopySource: bucket and each key segment URL-encoded. */
export function copySource(bucket: string, key: string): string {
  return `${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * An {@linkcode ObjectStore} for one bucket. Every request is counted by S3 operation
 * name (retries included), in a middleware of the client.
 *
 * @example
 * ```ts
 * import { createS3Client } from "./client.ts";
 *
 * const store = new S3Store(await createS3Client({}), "backup");
 * for await (const page of store.list("photos/")) console.log(page.length);
 * ```
 */
export class S3Store implements ObjectStore {
  readonly #counts: Record<string, number> = {};
  readonly #multipartThreshold: number;
  readonly #partSize: number;
  readonly #copyCutoff: number;
  readonly #copyPartSize: number;
  /** How uploads are encrypted, as the state records it (see encryption.ts). */
  readonly #sseString: string;
  readonly #listClient: S3Client;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    options: S3StoreOptions = {},
  ) {
    this.#multipartThreshold = options.multipartThreshold ?? 16 * MiB;
    this.#partSize = options.partSize ?? 16 * MiB;
    this.#copyCutoff = options.copyCutoff ?? COPY_OBJECT_LIMIT;
    this.#copyPartSize = options.copyPartSize ?? 512 * MiB;
    this.#sseString = options.sse
      ? sseString({
        ServerSideEncryption: options.sse.algorithm,
        SSEKMSKeyId: options.sse.kmsKeyId,
      })
      : "";
    this.#listClient = options.listClient ?? client;
    const counts = this.#counts;
    for (const counted of new Set([client, this.#listClient])) {
      counted.middlewareStack.add(
        (next, context) => (args) => {
          const name = (context.commandName ?? "Unknown").replace(/Command$/, "");
          counts[name] = (counts[name] ?? 0) + 1;
          return next(args);
        },
        { step: "deserialize", name: "s3SmartSyncRequestCounter", override: true },
      );
    }
  }

  /**
   * Files from the multipart threshold up, in parts of at least the part size: a file
   * no larger than one part goes in one PutObject whatever the threshold (as the SDK's
   * Upload would send it).
   */
  uploadsInParts(size: number): boolean {
    return size >= this.#multipartThreshold && size > partSizeFor(size, this.#partSize);
  }

  async abortMultipartUploads(key: string): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== key || !upload.UploadId) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: upload.UploadId,
          }),
        );
        aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  requestCounts(): Record<string, number> {
    return { ...this.#counts };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<RemoteObject[]> {
    let startAfter = options.startAfter;
    let token: string | undefined;
    for (;;) {
      const page = await this.#listClient.send(
        // Keys come URL-encoded, since XML 1.0 cannot carry every character a key may hold.
        fastListCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          StartAfter: startAfter,
          ContinuationToken: token,
          EncodingType: "url",
        }),
      );
      const { objects, isTruncated, nextContinuationToken } = pageOf(page);
      const first = objects[0]?.key;
      if (first !== undefined && startAfter !== undefined && compareKeys(first, startAfter) <= 0) {
        // A server that ignored StartAfter would otherwise make us list the same page forever.
        throw new Error(
          `Cannot list "${prefix}" in bucket "${this.bucket}": asked for keys after "${startAfter}", the server returned "${first}"`,
        );
      }
      yield objects;
      if (!isTruncated) return;
      // Continue after the last key as we decoded it rather than with NextContinuationToken:
      // the position is then exact whatever a server puts in its token (Ceph RGW's is the
      // raw last key, in XML outside the URL encoding, where line ends and control
      // characters are fragile), and StartAfter travels URL-encoded in the query string.
      // Both ways agree on moto and RGW (tests/listing_e2e_test.ts).
      const last = objects.at(-1)?.key;
      if (last !== undefined) {
        startAfter = last;
        token = undefined;
      } else if (nextContinuationToken) {
        token = nextContinuationToken;
      } else {
        throw new Error(
          `Cannot list "${prefix}" in bucket "${this.bucket}": the server said the listing goes on but gave no key or token to continue from`,
        );
      }
    }
  }

  async upload(
    key: string,
    file: { path: string; size: number },
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    const common = {
      Bucket: this.bucket,
      Key: key,
      StorageClass: options.storageClass as StorageClass | undefined,
      ContentType: options.contentType,
      ...encryptionFields(options.sse ?? this.#sseString),
    };
    const sse = options.sse ?? this.#sseString;
    if (!this.uploadsInParts(file.size)) {
      const body = await Deno.readFile(file.path);
      const result = await this.client.send(new PutObjectCommand({ ...common, Body: body }), {
        abortSignal: options.signal,
      });
      return { etag: quotedEtag(result.ETag), sse };
    }
    const upload = new Upload({
      client: this.client,
      params: { ...common, Body: createReadStream(file.path) },
      partSize: partSizeFor(file.size, this.#partSize),
      queueSize: 4,
      leavePartsOnError: false,
    });
    let reported = 0;
    upload.on("httpUploadProgress", ({ loaded }) => {
      if (loaded === undefined || loaded <= reported) return;
      options.onProgress?.(loaded - reported);
      reported = loaded;
    });
    const abort = () => void upload.abort().catch(() => {});
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      const result = await upload.done();
      return { etag: quotedEtag(result.ETag), sse };
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
  }

  async copy(fromKey: string, toKey: string, options: CopyOptions = {}): Promise<CopyResult> {
    // The source's headers are read only when the copy needs what the state does not
    // know: its class or encryption, its ETag for the condition, or (a copy in parts)
    // its metadata. The condition on the ETag makes a source changed by someone else
    // since it was listed or recorded fail safely.
    const source = copyNeedsHead(options, this.#copyCutoff)
      ? await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: fromKey, IfMatch: options.ifMatch }),
      )
      : undefined;
    const storageClass = options.storageClass ?? source?.StorageClass ?? "STANDARD";
    const sse = options.sse ?? sseString(source ?? {});
    const request = {
      bucket: this.bucket,
      fromKey,
      toKey,
      copySource: copySource(this.bucket, fromKey),
      source,
      sse,
      // CopyObject without a class makes a STANDARD copy: give every other class.
      storageClass: storageClass === "STANDARD" ? undefined : storageClass,
      ifMatch: options.ifMatch ?? source?.ETag,
    };
    const size = options.size ?? source?.ContentLength ?? 0;
    let etag: string | undefined;
    if (size > this.#copyCutoff && source) {
      options.onMultipart?.("started");
      etag = await multipartCopy(this.client, {
        ...request,
        source,
        partSize: this.#copyPartSize,
        concurrency: 4,
      });
      options.onMultipart?.("done");
    } else {
      etag = await simpleCopy(this.client, request);
    }
    return { etag, storageClass, sse };
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const result = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return {
        size: result.ContentLength ?? 0,
        storageClass: result.StorageClass === "STANDARD" ? undefined : result.StorageClass,
        restore: result.Restore,
        archiveStatus: result.ArchiveStatus,
        etag: result.ETag,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async restore(key: string, options: RestoreOptions): Promise<RestoreOutcome> {
    try {
      const result = await this.client.send(
        new RestoreObjectCommand({
          Bucket: this.bucket,
          Key: key,
          RestoreRequest: {
            Days: options.days,
            GlacierJobParameters: { Tier: options.tier },
          },
        }),
      );
      // 202: a new restore; 200: already restored, its expiry was extended.
      return result.$metadata.httpStatusCode === 200 ? "already restored" : "started";
    } catch (error) {
      const outcome = restoreOutcomeOfError(error);
      if (outcome) return outcome;
      throw error;
    }
  }

  async readable(key: string): Promise<boolean> {
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: "bytes=0-0" }),
      );
      await result.Body?.transformToByteArray();
      return true;
    } catch (error) {
      if (isArchivedError(error)) return false;
      // An empty object has no first byte: it is there, and readable.
      if (statusOf(error) === 416) return true;
      throw error;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<DeleteFailure[]> {
    if (keys.length > 1000) throw new RangeError("DeleteObjects takes at most 1000 keys");
    // Keys with characters an XML request body cannot carry faithfully go one by one.
    const single = keys.filter((key) => XML_UNSAFE.test(key));
    const batch = single.length === 0 ? keys : keys.filter((key) => !XML_UNSAFE.test(key));
    const failures: DeleteFailure[] = [];
    for (const key of single) {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (error) {
        failures.push({ key, message: s3ErrorText(error) });
      }
    }
    if (batch.length === 0) return failures;
    const result = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
      }),
    );
    return failures.concat((result.Errors ?? []).map((error) => ({
      key: error.Key ?? "",
      message: deleteErrorText(error),
    })));
  }
}
