/**
 * Request shapes that moto cannot show: SSE-KMS on multipart copies, abort on
 * failure, Content-MD5 instead of CRC32 on DeleteObjects for S3-compatible servers.
 */
import assert from "node:assert/strict";
import { DeleteObjectsCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  copyObjectInput,
  createMultipartInput,
  multipartCopy,
  partRanges,
  taggingOf,
} from "../lib/s3/multipart_copy.ts";
import { createS3Client } from "../lib/s3/client.ts";
import { encryptionFields, sseString } from "../lib/s3/encryption.ts";

const source = {
  $metadata: {},
  ContentLength: 12 * 1024 * 1024,
  ContentType: "video/mp4",
  ContentEncoding: "gzip",
  ContentDisposition: "inline",
  CacheControl: "no-cache",
  Metadata: { camera: "x100" },
  ServerSideEncryption: "aws:kms" as const,
  SSEKMSKeyId: "arn:aws:kms:eu-west-1:111122223333:key/abcd",
  BucketKeyEnabled: true,
  ETag: '"etag"',
};
const request = {
  bucket: "b",
  fromKey: "p/a b.mp4",
  toKey: "p/new/a b.mp4",
  copySource: "b/p/a%20b.mp4",
  source,
  sse: sseString(source),
  storageClass: "GLACIER_IR",
  ifMatch: '"etag"',
};

Deno.test("createMultipartInput() carries headers, metadata, tags, class and SSE-KMS key", () => {
  const input = createMultipartInput(request, [{ Key: "project", Value: "a&b" }, {
    Key: "k",
    Value: "v",
  }]);
  assert.deepEqual(input, {
    Bucket: "b",
    Key: "p/new/a b.mp4",
    ContentType: "video/mp4",
    ContentEncoding: "gzip",
    ContentDisposition: "inline",
    ContentLanguage: undefined,
    CacheControl: "no-cache",
    Expires: undefined,
    Metadata: { camera: "x100" },
    StorageClass: "GLACIER_IR",
    Tagging: "project=a%26b&k=v",
    ServerSideEncryption: "aws:kms",
    SSEKMSKeyId: "arn:aws:kms:eu-west-1:111122223333:key/abcd",
  });
});

Deno.test("copyObjectInput() copies metadata and tags, keeps class and encryption, on the ETag", () => {
  const input = copyObjectInput(request);
  assert.equal(input.MetadataDirective, "COPY");
  assert.equal(input.TaggingDirective, "COPY");
  assert.equal(input.CopySourceIfMatch, '"etag"');
  assert.equal(input.StorageClass, "GLACIER_IR");
  assert.equal(input.ServerSideEncryption, "aws:kms");
  assert.equal(input.SSEKMSKeyId, source.SSEKMSKeyId);
  assert.deepEqual(encryptionFields(sseString({ ServerSideEncryption: "AES256" })), {
    ServerSideEncryption: "AES256",
  });
  assert.deepEqual(encryptionFields(sseString({})), {});
  assert.deepEqual(encryptionFields("aws:kms"), { ServerSideEncryption: "aws:kms" });
  assert.equal(sseString({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: "k|1" }), "aws:kms|k|1");
  assert.deepEqual(encryptionFields("aws:kms|k|1"), {
    ServerSideEncryption: "aws:kms",
    SSEKMSKeyId: "k|1",
  });
  assert.equal(taggingOf([]), undefined);
});

Deno.test("partRanges() covers every byte once and fits any object in 10,000 parts", () => {
  assert.deepEqual(partRanges(12, 5), ["bytes=0-4", "bytes=5-9", "bytes=10-11"]);
  const fiveTiB = 5 * 1024 ** 4;
  const ranges = partRanges(fiveTiB, 512 * 1024 ** 2);
  assert.ok(ranges.length <= 10_000, `${ranges.length} parts`);
  assert.equal(ranges.at(-1)!.split("-")[1], String(fiveTiB - 1));
});

Deno.test("multipartCopy() aborts the upload when a part fails, and rethrows", async () => {
  const sent: string[] = [];
  const client = {
    send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push(name);
      switch (name) {
        case "GetObjectTagging":
          return Promise.resolve({ TagSet: [] });
        case "CreateMultipartUpload":
          return Promise.resolve({ UploadId: "u1" });
        case "UploadPartCopy":
          if (command.input.PartNumber === 2) {
            return Promise.reject(Object.assign(new Error("boom"), { name: "InternalError" }));
          }
          return Promise.resolve({ CopyPartResult: { ETag: '"p"' } });
        default:
          return Promise.resolve({});
      }
    },
  } as unknown as S3Client;
  await assert.rejects(
    multipartCopy(client, { ...request, partSize: 5 * 1024 * 1024, concurrency: 1 }),
    /boom/,
  );
  assert.ok(sent.includes("AbortMultipartUpload"), sent.join(","));
  assert.ok(!sent.includes("CompleteMultipartUpload"));
});

async function deleteObjectsHeaders(options: { fullChecksums: boolean }) {
  Deno.env.set("AWS_ACCESS_KEY_ID", "testing");
  Deno.env.set("AWS_SECRET_ACCESS_KEY", "testing");
  const client = await createS3Client({
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    maxAttempts: 1,
    fullChecksums: options.fullChecksums,
  });
  let headers: Record<string, string> = {};
  client.middlewareStack.add(
    (_next) => (args) => {
      headers = (args.request as { headers: Record<string, string> }).headers;
      return Promise.reject(new Error("captured"));
    },
    { step: "finalizeRequest", priority: "low", name: "capture" },
  );
  await assert.rejects(
    client.send(
      new DeleteObjectsCommand({ Bucket: "b", Delete: { Objects: [{ Key: "a" }, { Key: "b" }] } }),
    ),
    /captured/,
  );
  client.destroy();
  return headers;
}

Deno.test("DeleteObjects to a custom endpoint sends Content-MD5 and no CRC32 headers", async () => {
  const headers = await deleteObjectsHeaders({ fullChecksums: false });
  assert.match(headers["content-md5"] ?? "", /^[A-Za-z0-9+/]{22}==$/);
  assert.deepEqual(Object.keys(headers).filter((name) => /checksum/i.test(name)), []);
  const full = await deleteObjectsHeaders({ fullChecksums: true });
  assert.ok(Object.keys(full).some((name) => /x-amz-checksum-/i.test(name)));
});
