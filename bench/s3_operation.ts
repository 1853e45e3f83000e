/**
 * Names the S3 operation an HTTP request is (path-style addressing), so that the bench
 * servers and proxies can count requests the way the AWS SDK names them.
 *
 * @module
 */

const BUCKET_GET: Array<[string, string]> = [
  ["list-type", "ListObjectsV2"],
  ["location", "GetBucketLocation"],
  ["uploads", "ListMultipartUploads"],
  ["versions", "ListObjectVersions"],
  ["versioning", "GetBucketVersioning"],
  ["tagging", "GetBucketTagging"],
  ["policy", "GetBucketPolicy"],
  ["acl", "GetBucketAcl"],
  ["encryption", "GetBucketEncryption"],
  ["lifecycle", "GetBucketLifecycleConfiguration"],
  ["object-lock", "GetObjectLockConfiguration"],
];

const OBJECT_GET: Array<[string, string]> = [
  ["tagging", "GetObjectTagging"],
  ["uploadId", "ListParts"],
  ["acl", "GetObjectAcl"],
  ["attributes", "GetObjectAttributes"],
  ["retention", "GetObjectRetention"],
  ["legal-hold", "GetObjectLegalHold"],
];

function firstParam(query: URLSearchParams, table: Array<[string, string]>): string | undefined {
  for (const [param, operation] of table) if (query.has(param)) return operation;
  return undefined;
}

function bucketOperation(method: string, query: URLSearchParams): string {
  switch (method) {
    case "HEAD":
      return "HeadBucket";
    case "GET":
      return firstParam(query, BUCKET_GET) ?? "ListObjects";
    case "PUT":
      return query.size === 0 ? "CreateBucket" : "PutBucketConfiguration";
    case "POST":
      return query.has("delete") ? "DeleteObjects" : "PostBucket";
    case "DELETE":
      return query.size === 0 ? "DeleteBucket" : "DeleteBucketConfiguration";
    default:
      return `${method}Bucket`;
  }
}

function objectOperation(method: string, query: URLSearchParams, headers: Headers): string {
  switch (method) {
    case "HEAD":
      return "HeadObject";
    case "GET":
      return firstParam(query, OBJECT_GET) ?? "GetObject";
    case "PUT":
      if (headers.has("x-amz-copy-source")) {
        return query.has("partNumber") ? "UploadPartCopy" : "CopyObject";
      }
      if (query.has("partNumber")) return "UploadPart";
      if (query.has("tagging")) return "PutObjectTagging";
      if (query.has("acl")) return "PutObjectAcl";
      return "PutObject";
    case "POST":
      if (query.has("uploads")) return "CreateMultipartUpload";
      if (query.has("uploadId")) return "CompleteMultipartUpload";
      if (query.has("restore")) return "RestoreObject";
      if (query.has("select")) return "SelectObjectContent";
      return "PostObject";
    case "DELETE":
      if (query.has("uploadId")) return "AbortMultipartUpload";
      if (query.has("tagging")) return "DeleteObjectTagging";
      return "DeleteObject";
    default:
      return `${method}Object`;
  }
}

/**
 * The S3 operation of a path-style request (`/BUCKET` or `/BUCKET/KEY`), e.g.
 * `ListObjectsV2`, `HeadObject`, `CopyObject`, `UploadPartCopy`, `DeleteObjects`.
 *
 * @example
 * ```ts
 * s3Operation("PUT", new URL("http://h/b/k?partNumber=1&uploadId=x"), new Headers());
 * // → "UploadPart"
 * ```
 */
export function s3Operation(method: string, url: URL, headers: Headers): string {
  const path = url.pathname.replace(/^\/+/, "");
  if (path === "") return method === "GET" ? "ListBuckets" : `${method}Service`;
  const slash = path.indexOf("/");
  const isBucket = slash === -1 || slash === path.length - 1;
  return isBucket
    ? bucketOperation(method, url.searchParams)
    : objectOperation(method, url.searchParams, headers);
}

/** An S3 XML error answer, as S3 writes it. */
export function s3ErrorResponse(
  status: number,
  code: string,
  message: string,
  resource = "",
): Response {
  const escape = (text: string) =>
    text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
      `<Message>${escape(message)}</Message><Resource>${escape(resource)}</Resource>` +
      `<RequestId>bench</RequestId></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );
}
