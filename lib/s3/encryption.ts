/**
 * Server-side encryption as one short string the state DB keeps per object, so that a
 * move can ask the copy for the source's encryption without reading the source first:
 * "" nothing asked for (the bucket's default), "AES256", "aws:kms" (the account's AWS
 * managed key), "aws:kms|KEY-ID", and the same for "aws:kms:dsse".
 *
 * @module
 */

/** Encryption fields of a PutObject, CopyObject or CreateMultipartUpload request. */
export interface Encryption {
  ServerSideEncryption?: "AES256" | "aws:kms" | "aws:kms:dsse";
  SSEKMSKeyId?: string;
}

/**
 * The string of an encryption setting (of an upload, or as HeadObject reports it).
 *
 * @example
 * ```ts
 * sseString({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: "arn:aws:kms:eu-west-1:1:key/k" });
 * // "aws:kms|arn:aws:kms:eu-west-1:1:key/k"
 * sseString({}); // ""
 * ```
 */
export function sseString(fields: { ServerSideEncryption?: string; SSEKMSKeyId?: string }): string {
  const algorithm = fields.ServerSideEncryption;
  if (algorithm === "aws:kms" || algorithm === "aws:kms:dsse") {
    return fields.SSEKMSKeyId ? `${algorithm}|${fields.SSEKMSKeyId}` : algorithm;
  }
  return algorithm === "AES256" ? "AES256" : "";
}

/**
 * The request fields that ask for the encryption of `sse` (see {@linkcode sseString}).
 *
 * @example
 * ```ts
 * encryptionFields("aws:kms|key-1"); // { ServerSideEncryption: "aws:kms", SSEKMSKeyId: "key-1" }
 * encryptionFields(""); // {}
 * ```
 */
export function encryptionFields(sse: string): Encryption {
  const bar = sse.indexOf("|");
  const algorithm = bar < 0 ? sse : sse.slice(0, bar);
  const keyId = bar < 0 ? undefined : sse.slice(bar + 1);
  if (algorithm === "aws:kms" || algorithm === "aws:kms:dsse") {
    return keyId ? { ServerSideEncryption: algorithm, SSEKMSKeyId: keyId } : {
      ServerSideEncryption: algorithm,
    };
  }
  return algorithm === "AES256" ? { ServerSideEncryption: "AES256" } : {};
}

/**
 * An ETag as S3 lists it, with its quotes: some servers (Ceph RGW) answer a copy with an
 * unquoted one, and an empty one means none.
 *
 * @example
 * ```ts
 * quotedEtag("5d41402abc4b2a76b9719d911017c592"); // '"5d41402abc4b2a76b9719d911017c592"'
 * quotedEtag(""); // undefined
 * quotedEtag('""'); // undefined
 * ```
 */
export function quotedEtag(etag: string | undefined): string | undefined {
  // Ceph RGW answers CompleteMultipartUpload with an empty ETag: unknown, not "".
  if (!etag || etag === '""') return undefined;
  return etag.startsWith('"') ? etag : `"${etag}"`;
}
