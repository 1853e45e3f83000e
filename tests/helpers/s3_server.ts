/**
 * What an end-to-end test needs from a real S3 server, whichever it is: its endpoint, an
 * S3 client, and a few bucket helpers. {@linkcode S3ClientServer} implements the helpers
 * over the client; moto (tests/helpers/moto.ts) and Ceph's RGW (tests/helpers/servers.ts)
 * each add how they start and stop. Tests pick servers through tests/helpers/servers.ts.
 *
 * @module
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type StorageClass,
} from "@aws-sdk/client-s3";

/** The S3 servers the end-to-end tests run against. */
export type ServerKind = "moto" | "rgw";

/** One listed object. */
export interface ListedS3Object {
  key: string;
  size: number;
  storageClass?: string;
  etag?: string;
}

/** Options of {@linkcode S3TestServer.put}: what another tool could set on an object. */
export interface PutOptions {
  storageClass?: string;
  contentType?: string;
  metadata?: Record<string, string>;
  tagging?: string;
  contentDisposition?: string;
  cacheControl?: string;
  contentEncoding?: string;
}

/** A running S3 server on loopback, with test credentials (testing/testing). */
export interface S3TestServer {
  /** Which server this is, for expectations that differ between servers. */
  readonly kind: ServerKind;
  /** A human name, e.g. "moto" or "Ceph RGW". */
  readonly name: string;
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** An S3 client for the server: path style, checksums only where required. */
  readonly client: S3Client;
  /** Creates a bucket with a unique name and returns it. */
  bucket(label?: string): Promise<string>;
  /** All objects of a bucket: key → bytes. */
  contents(bucket: string): Promise<Map<string, Uint8Array>>;
  /** Lists a bucket (under `prefix`): key, size, storage class, ETag. */
  list(bucket: string, prefix?: string): Promise<ListedS3Object[]>;
  /** Puts an object directly (as another tool would). */
  put(bucket: string, key: string, body: string | Uint8Array, options?: PutOptions): Promise<void>;
  /** HeadObject of a key. */
  head(bucket: string, key: string): Promise<HeadObjectCommandOutput>;
  /** Tags of an object as a plain record. */
  tags(bucket: string, key: string): Promise<Record<string, string>>;
  /** Stops the server (its processes, by process id). */
  stop(): Promise<void>;
}

/**
 * The S3 client settings every test server is used with (and that `--endpoint-url`
 * implies), with `overrides` on top (e.g. `maxAttempts`).
 */
export function testClient(endpoint: string, overrides: S3ClientConfig = {}): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...overrides,
  });
}

/** The bucket helpers of {@linkcode S3TestServer}, implemented over an S3 client. */
export abstract class S3ClientServer implements S3TestServer {
  abstract readonly kind: ServerKind;
  abstract readonly name: string;
  readonly client: S3Client;
  #buckets = 0;

  constructor(readonly endpoint: string) {
    this.client = testClient(endpoint);
  }

  async bucket(label = "test"): Promise<string> {
    const name = `${label}-${++this.#buckets}-${crypto.randomUUID().slice(0, 8)}`;
    await this.client.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  }

  async contents(bucket: string): Promise<Map<string, Uint8Array>> {
    const result = new Map<string, Uint8Array>();
    for (const object of await this.list(bucket)) {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: object.key }),
      );
      result.set(object.key, await response.Body!.transformToByteArray());
    }
    return result;
  }

  async list(bucket: string, prefix = ""): Promise<ListedS3Object[]> {
    const objects: ListedS3Object[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        objects.push({
          key: object.Key!,
          size: object.Size ?? 0,
          storageClass: object.StorageClass,
          etag: object.ETag,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async put(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options: PutOptions = {},
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        StorageClass: options.storageClass as StorageClass | undefined,
        ContentType: options.contentType,
        Metadata: options.metadata,
        Tagging: options.tagging,
        ContentDisposition: options.contentDisposition,
        CacheControl: options.cacheControl,
        ContentEncoding: options.contentEncoding,
      }),
    );
  }

  head(bucket: string, key: string): Promise<HeadObjectCommandOutput> {
    return this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  }

  async tags(bucket: string, key: string): Promise<Record<string, string>> {
    const response = await this.client.send(
      new GetObjectTaggingCommand({ Bucket: bucket, Key: key }),
    );
    return Object.fromEntries((response.TagSet ?? []).map((tag) => [tag.Key!, tag.Value!]));
  }

  abstract stop(): Promise<void>;
}
