/**
 * Server-side copies that keep everything about an object: CopyObject below the
 * multipart cutoff (5 GiB, S3's CopyObject limit), and above it CreateMultipartUpload,
 * UploadPartCopy with byte ranges in parallel, CompleteMultipartUpload — aborting the
 * upload on any failure. A multipart copy copies no metadata or tags by itself, so they
 * are read from the source and set on the new upload; the encryption is the source's.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandInput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  GetObjectTaggingCommand,
  type HeadObjectCommandOutput,
  PutObjectTaggingCommand,
  type S3Client,
  type StorageClass,
  type Tag,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { runPool } from "../pool.ts";
import { partSizeFor } from "./parts.ts";
import { encryptionFields, quotedEtag } from "./encryption.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's largest CopyObject, and the default multipart cutoff. */
export const COPY_OBJECT_LIMIT = 5 * GiB;

/** Where and how to copy. */
export interface CopyRequest {
  bucket: string;
  fromKey: string;
  toKey: string;
  /** URL-encoded `bucket/key` of the source. */
  copySource: string;
  /** HeadObject of the source, when it was read (a multipart copy needs it). */
  source?: HeadObjectCommandOutput;
  /** The source's encryption, asked for again (see `sseString` in encryption.ts). */
  sse: string;
  /** Storage class of the copy (the source's, to keep it). */
  storageClass?: string;
  /** The copy is made only if the source still has this ETag. */
  ifMatch?: string;
}

/** The CopyObject input for a copy that keeps metadata, tags, class and encryption. */
export function copyObjectInput(request: CopyRequest): CopyObjectCommandInput {
  return {
    Bucket: request.bucket,
    Key: request.toKey,
    CopySource: request.copySource,
    CopySourceIfMatch: request.ifMatch,
    MetadataDirective: "COPY",
    TaggingDirective: "COPY",
    StorageClass: request.storageClass as StorageClass | undefined,
    ...encryptionFields(request.sse),
  };
}

/** Formats tags for the `Tagging` field (URL query encoding). */
export function taggingOf(tags: readonly Tag[]): string | undefined {
  if (tags.length === 0) return undefined;
  return tags.map((tag) =>
    `${encodeURIComponent(tag.Key ?? "")}=${encodeURIComponent(tag.Value ?? "")}`
  ).join("&");
}

/** The CreateMultipartUpload input that gives the copy everything the source has. */
export function createMultipartInput(
  request: CopyRequest & { source: HeadObjectCommandOutput },
  tags: readonly Tag[],
): CreateMultipartUploadCommandInput {
  const { source } = request;
  return {
    Bucket: request.bucket,
    Key: request.toKey,
    ContentType: source.ContentType,
    ContentEncoding: source.ContentEncoding,
    ContentDisposition: source.ContentDisposition,
    ContentLanguage: source.ContentLanguage,
    CacheControl: source.CacheControl,
    Expires: source.Expires,
    Metadata: source.Metadata,
    StorageClass: request.storageClass as StorageClass | undefined,
    Tagging: taggingOf(tags),
    ...encryptionFields(request.sse),
  };
}

/** Byte ranges (`bytes=a-b`) of the parts of an object of `size` bytes. */
export function partRanges(size: number, partSize: number): string[] {
  const part = partSizeFor(size, partSize);
  const ranges: string[] = [];
  for (let start = 0; start < size; start += part) {
    ranges.push(`bytes=${start}-${Math.min(size, start + part) - 1}`);
  }
  return ranges;
}

/**
 * Copies `request.fromKey` to `request.toKey` in parts.
 *
 * @throws the first failed request's error, after aborting the multipart upload.
 */
export async function multipartCopy(
  client: S3Client,
  request: CopyRequest & {
    source: HeadObjectCommandOutput;
    partSize: number;
    concurrency: number;
  },
): Promise<string | undefined> {
  const tags = (await client.send(
    new GetObjectTaggingCommand({ Bucket: request.bucket, Key: request.fromKey }),
  )).TagSet ?? [];
  const created = await client.send(
    new CreateMultipartUploadCommand(createMultipartInput(request, tags)),
  );
  const uploadId = created.UploadId!;
  try {
    const ranges = partRanges(request.source.ContentLength ?? 0, request.partSize);
    const parts: Array<{ PartNumber: number; ETag?: string }> = [];
    await runPool(ranges.map((range, index) => ({ range, number: index + 1 })), {
      concurrency: request.concurrency,
      worker: async ({ range, number }) => {
        const result = await client.send(
          new UploadPartCopyCommand({
            Bucket: request.bucket,
            Key: request.toKey,
            UploadId: uploadId,
            PartNumber: number,
            CopySource: request.copySource,
            CopySourceRange: range,
            CopySourceIfMatch: request.ifMatch,
          }),
        );
        parts.push({ PartNumber: number, ETag: result.CopyPartResult?.ETag });
      },
    });
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: request.bucket,
        Key: request.toKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    if (tags.length > 0) {
      // Ceph RGW ignores the tags given to CreateMultipartUpload: set them on the object.
      await client.send(
        new PutObjectTaggingCommand({
          Bucket: request.bucket,
          Key: request.toKey,
          Tagging: { TagSet: tags },
        }),
      );
    }
    return quotedEtag(completed.ETag);
  } catch (error) {
    try {
      await client.send(
        new AbortMultipartUploadCommand({
          Bucket: request.bucket,
          Key: request.toKey,
          UploadId: uploadId,
        }),
      );
    } catch {
      // The original error matters more; a lifecycle rule cleans up what is left.
    }
    throw error;
  }
}

/** Copies with CopyObject; returns the copy's ETag, if the server said. */
export async function simpleCopy(
  client: S3Client,
  request: CopyRequest,
): Promise<string | undefined> {
  const result = await client.send(new CopyObjectCommand(copyObjectInput(request)));
  return quotedEtag(result.CopyObjectResult?.ETag);
}
