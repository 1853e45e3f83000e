/**
 * Server-side copies that keep everything about an object: CopyObject below the
 * multipart cutoff (5 GiB, S3's CopyObject limit), and above it CreateMultipartUpload,
 * UploadPartCopy with byte ranges in parallel, CompleteMultipartUpload — aborting the
 * upload on any failure. A multipart copy copies no metadata, tags or encryption by
 * itself, so they are read from the source and set on the new upload.
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
  type S3Client,
  type StorageClass,
  type Tag,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { runPool } from "../pool.ts";
import { partSizeFor } from "./parts.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's largest CopyObject, and the default multipart cutoff. */
export const COPY_OBJECT_LIMIT = 5 * GiB;

/** Encryption headers of a copy: the source's own, so a move keeps them. */
export interface Encryption {
  ServerSideEncryption?: "AES256" | "aws:kms" | "aws:kms:dsse";
  SSEKMSKeyId?: string;
  BucketKeyEnabled?: boolean;
}

/** The encryption of an object as HeadObject reports it, as copy request fields. */
export function encryptionOf(
  head: Pick<
    HeadObjectCommandOutput,
    "ServerSideEncryption" | "SSEKMSKeyId" | "BucketKeyEnabled"
  >,
): Encryption {
  const algorithm = head.ServerSideEncryption;
  if (algorithm === "aws:kms" || algorithm === "aws:kms:dsse") {
    return {
      ServerSideEncryption: algorithm,
      SSEKMSKeyId: head.SSEKMSKeyId,
      BucketKeyEnabled: head.BucketKeyEnabled,
    };
  }
  if (algorithm === "AES256") return { ServerSideEncryption: "AES256" };
  return {};
}

/** Where and how to copy. */
export interface CopyRequest {
  bucket: string;
  fromKey: string;
  toKey: string;
  /** URL-encoded `bucket/key` of the source. */
  copySource: string;
  /** HeadObject of the source. */
  source: HeadObjectCommandOutput;
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
    ...encryptionOf(request.source),
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
  request: CopyRequest,
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
    ...encryptionOf(source),
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
  request: CopyRequest & { partSize: number; concurrency: number },
): Promise<void> {
  const tagging = await client.send(
    new GetObjectTaggingCommand({ Bucket: request.bucket, Key: request.fromKey }),
  );
  const created = await client.send(
    new CreateMultipartUploadCommand(createMultipartInput(request, tagging.TagSet ?? [])),
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
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: request.bucket,
        Key: request.toKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
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

/** Copies with CopyObject. */
export async function simpleCopy(client: S3Client, request: CopyRequest): Promise<void> {
  await client.send(new CopyObjectCommand(copyObjectInput(request)));
}
