/**
 * Parsing `s3://bucket/prefix` URLs and mapping local paths to object keys.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** Where a local directory is mirrored: a bucket and a key prefix. */
export interface S3Location {
  /** Bucket name. */
  bucket: string;
  /** Key prefix, either empty or ending in "/". */
  prefix: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Explains why `name` is not a valid S3 bucket name, or returns undefined when it is.
 *
 * @example
 * ```ts
 * bucketNameProblem("My_Bucket"); // "bucket names use only lower-case letters, digits, '.' and '-'"
 * ```
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "bucket names are 3 to 63 characters long";
  if (!BUCKET_NAME.test(name)) {
    return "bucket names use only lower-case letters, digits, '.' and '-', and start and end with a letter or digit";
  }
  if (name.includes("..")) return "bucket names cannot contain '..'";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "bucket names cannot look like an IP address";
  return undefined;
}

/**
 * Parses `s3://bucket[/prefix]`. The prefix is normalised to end in "/" (or be empty),
 * so `s3://b/photos` and `s3://b/photos/` name the same place, as with `aws s3 sync`.
 *
 * @throws {UsageError} when the URL is not of that form or the bucket name is invalid.
 *
 * @example
 * ```ts
 * parseS3Url("s3://backup/nas/photos"); // { bucket: "backup", prefix: "nas/photos/" }
 * ```
 */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!match) {
    throw new UsageError(
      `"${url}" is not an S3 URL. Write it as s3://bucket or s3://bucket/prefix.`,
    );
  }
  const bucket = match[1]!;
  const problem = bucketNameProblem(bucket);
  if (problem) throw new UsageError(`Invalid bucket name "${bucket}" in "${url}": ${problem}.`);
  let prefix = (match[2] ?? "").replace(/\/+/g, "/").replace(/^\//, "");
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  return { bucket, prefix };
}

/** Formats a location back as `s3://bucket/prefix`. */
export function formatS3Url(location: S3Location, relativeKey = ""): string {
  return `s3://${location.bucket}/${location.prefix}${relativeKey}`;
}

const encoder = new TextEncoder();

/**
 * Why the file at `path` cannot have a key under `prefix` (S3 keys are at most 1024 bytes
 * of UTF-8), or undefined when it can.
 *
 * @example
 * ```ts
 * keyProblem("photos/", "a.jpg"); // undefined
 * keyProblem("", "x".repeat(1025)); // "its key would be 1025 bytes long; S3 keys are at most 1024 bytes"
 * ```
 */
export function keyProblem(prefix: string, path: string): string | undefined {
  // Three bytes per UTF-16 unit at most: most paths are decided without encoding them.
  if ((prefix.length + path.length) * 3 <= 1024) return undefined;
  const bytes = encoder.encode(prefix).length + encoder.encode(path).length;
  return bytes <= 1024
    ? undefined
    : `its key would be ${bytes} bytes long; S3 keys are at most 1024 bytes`;
}
