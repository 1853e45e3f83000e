/**
 * The S3 client set-up: endpoint (custom servers: path-style addressing, checksums only
 * where required, Content-MD5 on DeleteObjects, RGW's copy precondition header), profile,
 * region, retries and timeouts; and the listing's own client, which speaks through fetch.
 *
 * @module
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import type { BuildMiddleware, FinalizeRequestMiddleware, MetadataBearer } from "@smithy/types";
import { createHash } from "node:crypto";
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
 * import { S3Store } from "./aws_store.ts";
 *
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
