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

/**
 * What is wrong with an endpoint URL, as a sentence that says what to write instead, or
 * undefined when it is usable: it needs http:// or https://, and no path ending in the
 * bucket's name (path-style addressing puts the bucket there itself; a path before it,
 * as behind a reverse proxy, is fine).
 *
 * @param endpoint the URL as given.
 * @param bucket the bucket it will be used with.
 * @param source where it was given: "--endpoint-url", "AWS_ENDPOINT_URL_S3"…
 * @returns the problem, or undefined.
 *
 * @example
 * ```ts
 * endpointProblem("127.0.0.1:9000", "backup", "--endpoint-url");
 * // '--endpoint-url "127.0.0.1:9000" has no scheme: write http://127.0.0.1:9000 (or https:// if the server speaks TLS).'
 * endpointProblem("http://nas:9000", "backup", "--endpoint-url"); // undefined
 * ```
 */
export function endpointProblem(
  endpoint: string,
  bucket: string,
  source: string,
): string | undefined {
  const given = `${source} "${endpoint}"`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(endpoint)?.[1];
  if (scheme === undefined) {
    return `${given} has no scheme: write http://${endpoint} (or https:// if the server speaks TLS).`;
  }
  if (!/^https?$/i.test(scheme)) {
    return `${given} must start with http:// or https://, not ${scheme}://.`;
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `${given} is not a URL; write it as http://HOST:PORT or https://HOST.`;
  }
  if (url.search !== "" || url.hash !== "") {
    return `${given} must not have a query or fragment; write it as ${url.origin}${url.pathname}.`;
  }
  const segments = url.pathname.split("/").filter(Boolean);
  if (segments.at(-1) === bucket) {
    const server = `${url.origin}${"/" + segments.slice(0, -1).join("/")}`.replace(/\/$/, "");
    return `${given} ends with the bucket's name: give the server only (--endpoint-url ${server}); the bucket goes in the s3:// URL.`;
  }
  return undefined;
}
