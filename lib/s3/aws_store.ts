/**
 * {@linkcode ObjectStore} implemented with `@aws-sdk/client-s3` and
 * `@aws-sdk/lib-storage`, plus the S3 client set-up (endpoint, profile, region).
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
  type S3ClientConfig,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { BuildMiddleware, FinalizeRequestMiddleware, MetadataBearer } from "@smithy/types";
import { createHash } from "node:crypto";
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
import { fetchListingAllowed, ListingHandler } from "./list_client.ts";

/** How to reach S3. Unset fields fall back to the AWS SDK's defaults and environment. */
export interface ConnectionOptions {
  /** Endpoint URL of an S3-compatible server; also read from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Profile in ~/.aws/credentials and ~/.aws/config. */
  profile?: string;
  /** Region; else AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1. */
  region?: string;
  /** Attempts per request, retries included (throttling, 5xx and network errors). */
  maxAttempts?: number;
  /**
   * With a custom endpoint, send the SDK's default CRC32 checksums anyway. By default
   * they are sent only where S3 requires them, and DeleteObjects carries Content-MD5,
   * because Backblaze B2, Cloudflare R2 and older MinIO reject the newer headers.
   */
  fullChecksums?: boolean;
  /** How the store transfers: part sizes, cutoffs, encryption of uploads. */
  transfer?: S3StoreOptions;
}

/** The endpoint in effect: the option, else the standard environment variables. */
export function effectiveEndpoint(options: ConnectionOptions): string | undefined {
  return options.endpoint || Deno.env.get("AWS_ENDPOINT_URL_S3") ||
    Deno.env.get("AWS_ENDPOINT_URL") || undefined;
}

/**
 * Creates an S3 client. Custom endpoints use path-style addressing and send
 * checksums only where S3 requires them, since several S3-compatible servers reject
 * the SDK's default CRC32 headers.
 *
 * @example
 * ```ts
 * const client = await createS3Client({ endpoint: "http://127.0.0.1:9000" });
 * ```
 */
export async function createS3Client(options: ConnectionOptions): Promise<S3Client> {
  const endpoint = effectiveEndpoint(options);
  const config: S3ClientConfig = {
    maxAttempts: options.maxAttempts ?? 5,
    // Without timeouts a server that stops answering would hang an unattended run
    // forever. The request timeout is per socket inactivity, not per transfer.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    followRegionRedirects: endpoint === undefined,
  };
  if (options.profile) config.profile = options.profile;
  const compatible = endpoint !== undefined && !options.fullChecksums;
  if (endpoint) {
    config.endpoint = endpoint;
    config.forcePathStyle = true;
  }
  if (compatible) {
    config.requestChecksumCalculation = "WHEN_REQUIRED";
    config.responseChecksumValidation = "WHEN_REQUIRED";
  }
  const region = options.region || Deno.env.get("AWS_REGION") ||
    Deno.env.get("AWS_DEFAULT_REGION");
  let client: S3Client;
  if (region) client = new S3Client({ ...config, region });
  else {
    client = new S3Client(config);
    try {
      await client.config.region();
    } catch {
      // No region anywhere: S3 redirects us to the bucket's region, endpoints ignore it.
      client.destroy();
      client = new S3Client({ ...config, region: "us-east-1" });
    }
  }
  if (compatible) useContentMd5ForDeleteObjects(client);
  if (endpoint) mirrorCopyIfMatch(client);
  return client;
}

/**
 * The client that sends the listing: like `client` (same endpoint, profile, region and
 * retries), but through `fetch`, which leaves far less memory behind per answer than
 * `node:http` (see list_client.ts); `client` itself where `fetch` cannot stand in.
 *
 * @example
 * ```ts
 * const options = { endpoint: "http://127.0.0.1:9000" };
 * const client = await createS3Client(options);
 * const store = new S3Store(client, "backup", {
 *   listClient: await createListClient(options, client),
 * });
 * ```
 */
export async function createListClient(
  options: ConnectionOptions,
  client: S3Client,
): Promise<S3Client> {
  const endpoint = effectiveEndpoint(options);
  if (!fetchListingAllowed(endpoint)) return client;
  const config: S3ClientConfig = {
    maxAttempts: options.maxAttempts ?? 5,
    requestHandler: new ListingHandler({ requestTimeout: 120_000 }),
    followRegionRedirects: endpoint === undefined,
    region: await client.config.region(),
    credentials: client.config.credentials,
  };
  if (endpoint) {
    config.endpoint = endpoint;
    config.forcePathStyle = true;
    config.requestChecksumCalculation = "WHEN_REQUIRED";
    config.responseChecksumValidation = "WHEN_REQUIRED";
  }
  return new S3Client(config);
}

/**
 * Makes every conditional copy also carry the precondition under the name Ceph RGW reads:
 * RGW 16 ignores `x-amz-copy-source-if-match` and honours only `x-amz-copy-if-match` (the
 * name of S3's first drafts), so without it a source changed by someone else would be
 * copied. Used for custom endpoints only; S3 itself is not sent the old name.
 */
export function mirrorCopyIfMatch(client: S3Client): void {
  const middleware: BuildMiddleware<object, MetadataBearer> = (next, context) => (args) => {
    if (context.commandName === "CopyObjectCommand") {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      const etag = headers?.["x-amz-copy-source-if-match"];
      if (headers && etag !== undefined) headers["x-amz-copy-if-match"] = etag;
    }
    return next(args);
  };
  // The build step runs before signing, so the added header is signed too.
  client.middlewareStack.add(middleware, {
    step: "build",
    name: "s3SmartSyncCopyIfMatch",
    override: true,
  });
}

/**
 * Makes DeleteObjects carry Content-MD5 instead of the SDK's CRC32 checksum headers,
 * which several S3-compatible servers reject.
 */
export function useContentMd5ForDeleteObjects(client: S3Client): void {
  const middleware: FinalizeRequestMiddleware<object, MetadataBearer> =
    (next, context) => (args) => {
      const request = args.request as {
        headers?: Record<string, string>;
        body?: unknown;
      };
      if (context.commandName === "DeleteObjectsCommand" && request.headers) {
        for (const name of Object.keys(request.headers)) {
          if (/^x-amz-(sdk-)?checksum-/i.test(name)) delete request.headers[name];
        }
        const body = typeof request.body === "string" || request.body instanceof Uint8Array
          ? request.body
          : undefined;
        if (body !== undefined) {
          request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
        }
      }
      return next(args);
    };
  client.middlewareStack.addRelativeTo(
    middleware,
    {
      relation: "before",
      toMiddleware: "httpSigningMiddleware",
      name: "s3SmartSyncContentMd5",
      override: true,
    },
  );
}

/** Options of {@linkcode S3Store}. */
export interface S3StoreOptions {
  /** Files at least this large are uploaded in parts. Default 16 MiB. */
  multipartThreshold?: number;
  /** Smallest part size for multipart uploads. Default 16 MiB; grown to fit 10,000 parts. */
  partSize?: number;
  /** Objects larger than this are copied in parts. Default 5 GiB, CopyObject's limit. */
  copyCutoff?: number;
  /** Part size of multipart copies. Default 512 MiB; grown to fit 10,000 parts. */
  copyPartSize?: number;
  /** Server-side encryption of uploads. */
  sse?: { algorithm: "AES256" | "aws:kms"; kmsKeyId?: string };
  /** The client listings are sent with (see {@linkcode createListClient}); default: the store's. */
  listClient?: S3Client;
}

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

  get multipartThreshold(): number {
    return this.#multipartThreshold;
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
      ...encryptionFields(this.#sseString),
    };
    if (file.size < this.#multipartThreshold) {
      const body = await Deno.readFile(file.path);
      const result = await this.client.send(new PutObjectCommand({ ...common, Body: body }), {
        abortSignal: options.signal,
      });
      return { etag: quotedEtag(result.ETag), sse: this.#sseString };
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
      return { etag: quotedEtag(result.ETag), sse: this.#sseString };
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
  }

  async copy(fromKey: string, toKey: string, options: CopyOptions = {}): Promise<CopyResult> {
    // The source's headers are read only when the copy needs what the state does not
    // know: its class or encryption, its ETag for the condition, or (a copy in parts)
    // its metadata. The condition on the ETag makes a source changed by someone else
    // since it was listed or recorded fail safely.
    const needsHead = options.storageClass === undefined || options.sse === undefined ||
      options.ifMatch === undefined || options.size === undefined ||
      options.size > this.#copyCutoff;
    const source = needsHead
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
