/**
 * Checks shared by the crash, fault and hostile-tree tests: the state DB's integrity,
 * multipart uploads left open, content hashes of a bucket and a tree.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { readTree } from "./moto.ts";
import type { S3TestServer } from "./s3_server.ts";

/** `PRAGMA integrity_check` of the state DB in `dir` (read-only): "ok" when sound. */
export function integrityCheck(dir: string): string {
  const db = new DatabaseSync(`${dir}/.s3-smart-sync.db`, { readOnly: true });
  try {
    const rows = db.prepare("PRAGMA integrity_check").all() as Array<Record<string, unknown>>;
    return rows.map((row) => String(Object.values(row)[0])).join("\n");
  } finally {
    db.close();
  }
}

/** Multipart uploads left open in a bucket: key and upload id. */
export async function openMultipartUploads(
  server: S3TestServer,
  bucket: string,
): Promise<Array<{ key: string; uploadId: string }>> {
  const response = await server.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (response.Uploads ?? []).map((upload) => ({
    key: upload.Key ?? "",
    uploadId: upload.UploadId ?? "",
  }));
}

/** SHA-256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Content hash → the keys that hold it, for a whole bucket. */
export async function bucketHashes(
  server: S3TestServer,
  bucket: string,
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const [key, bytes] of await server.contents(bucket)) {
    const hash = sha256(bytes);
    const keys = result.get(hash);
    if (keys) keys.push(key);
    else result.set(hash, [key]);
  }
  return result;
}

/** Content hash → the relative paths that hold it, for a local tree (state DB left out). */
export function treeHashes(root: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const [path, bytes] of readTree(root)) {
    const hash = sha256(bytes);
    const paths = result.get(hash);
    if (paths) paths.push(path);
    else result.set(hash, [path]);
  }
  return result;
}

/**
 * Every key of a bucket, listed with `EncodingType=url` so that keys holding a carriage
 * return or other characters that XML cannot carry come back exactly (an XML parser
 * turns "\r" into "\n"). Decoded as the AWS CLI does (`unquote_plus`).
 */
export async function exactKeys(server: S3TestServer, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await server.client.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, EncodingType: "url" }),
    );
    for (const object of page.Contents ?? []) {
      keys.push(decodeURIComponent(object.Key!.replaceAll("+", " ")));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Every object of a bucket, key (exact, see {@linkcode exactKeys}) → bytes. */
export async function exactContents(
  server: S3TestServer,
  bucket: string,
): Promise<Map<string, Uint8Array>> {
  const result = new Map<string, Uint8Array>();
  for (const key of await exactKeys(server, bucket)) {
    const response = await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    result.set(key, await response.Body!.transformToByteArray());
  }
  return result;
}

/**
 * Asserts that the bucket holds exactly the local tree under the prefix, byte for byte,
 * with keys read exactly (unlike a plain listing, see {@linkcode exactKeys}).
 */
export async function assertExactMirror(
  server: S3TestServer,
  target: { bucket: string; prefix: string; src: string },
): Promise<void> {
  const actual = new Map<string, string>();
  for (const [key, bytes] of await exactContents(server, target.bucket)) {
    actual.set(JSON.stringify(key), sha256(bytes));
  }
  const expected = new Map<string, string>();
  for (const [path, bytes] of readTree(target.src)) {
    expected.set(JSON.stringify(target.prefix + path), sha256(bytes));
  }
  assert.deepEqual(
    new Map([...actual].sort()),
    new Map([...expected].sort()),
    "the bucket does not mirror the local tree (keys JSON-quoted, values SHA-256)",
  );
}
