/**
 * One ListObjectsV2 page of a {@linkcode KeyIndex}, as the XML S3 answers (without the
 * XML declaration).
 *
 * @module
 */
import type { KeyIndex } from "./key_index.ts";

/** The parameters of a ListObjectsV2 request that shape the page. */
export interface ListParams {
  /** Bucket name (echoed as Name). */
  bucket: string;
  /** Only keys starting with this. */
  prefix: string;
  /** Start after this key (S3 order). */
  startAfter?: string;
  /** Opaque token from a previous page's NextContinuationToken. */
  continuationToken?: string;
  /** Keys (and common prefixes) per page, 0–1000. */
  maxKeys: number;
  /** Roll keys up to the first delimiter after the prefix into CommonPrefixes. */
  delimiter?: string;
  /** `url` to URL-encode keys, prefixes, delimiter and StartAfter. */
  encodingType?: string;
  /** LastModified of every object, ISO 8601 with milliseconds. */
  lastModified: string;
}

const UTF8 = new TextEncoder();
const FROM_UTF8 = new TextDecoder();

const XML_SPECIAL = /[&<>"']|[^ -\uFFFF]/;
const XML_SPECIAL_ALL = /[&<>"']|[^ -\uFFFF]/g;
const XML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes text for XML; control characters become numeric references, as S3 writes them. */
export function xmlEscape(text: string): string {
  if (!XML_SPECIAL.test(text)) return text;
  return text.replace(XML_SPECIAL_ALL, (char) => XML_ENTITIES[char] ?? `&#${char.charCodeAt(0)};`);
}

/** Per ASCII code: 1 when `encoding-type=url` keeps the character as is. */
const URL_SAFE = new Uint8Array(128);
for (const char of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~/") {
  URL_SAFE[char.charCodeAt(0)] = 1;
}

/**
 * URL-encodes a key as S3 does for `encoding-type=url`: UTF-8 bytes percent-encoded,
 * `/` kept, a space as `+` (so a literal `+` is `%2B`). The result needs no XML escaping.
 */
export function s3UrlEncode(key: string): string {
  let out = "";
  let copied = 0;
  for (let index = 0; index < key.length; index++) {
    const unit = key.charCodeAt(index);
    if (unit < 128 && URL_SAFE[unit] === 1) continue;
    out += key.slice(copied, index);
    if (unit === 32) {
      out += "+";
    } else if (unit < 128) {
      out += unit < 16
        ? `%0${unit.toString(16).toUpperCase()}`
        : `%${unit.toString(16).toUpperCase()}`;
    } else {
      // A run of non-ASCII code units (surrogate pairs stay together).
      let end = index + 1;
      while (end < key.length && key.charCodeAt(end) >= 128) end++;
      out += encodeURIComponent(key.slice(index, end));
      index = end - 1;
    }
    copied = index + 1;
  }
  return copied === 0 ? key : out + key.slice(copied);
}

/** A continuation token: base64 of a kind letter (k = key, p = common prefix) and the value. */
export function encodeToken(kind: "k" | "p", value: string): string {
  let binary = "";
  for (const byte of UTF8.encode(kind + value)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Decodes {@linkcode encodeToken}; undefined when the token is not one of ours. */
export function decodeToken(token: string): { kind: "k" | "p"; value: string } | undefined {
  try {
    const text = FROM_UTF8.decode(Uint8Array.from(atob(token), (char) => char.charCodeAt(0)));
    const kind = text[0];
    if (kind !== "k" && kind !== "p") return undefined;
    return { kind, value: text.slice(1) };
  } catch {
    return undefined;
  }
}

const HEX_BYTE = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

function mix(value: number): string {
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
  value ^= value >>> 16;
  return HEX_BYTE[value >>> 24]! + HEX_BYTE[(value >>> 16) & 255]! +
    HEX_BYTE[(value >>> 8) & 255]! +
    HEX_BYTE[value & 255]!;
}

/** A deterministic ETag-looking quoted hex string (32 digits) for a key, XML-escaped. */
export function fakeEtag(key: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193);
  }
  return `&quot;${mix(hash)}${mix(hash ^ 0x9e3779b9)}${mix(hash + 0x7f4a7c15)}${
    mix(hash ^ 0x2545f491)
  }&quot;`;
}

/** Where a page starts: after the StartAfter key and after the continuation token. */
function startIndex(index: KeyIndex, params: ListParams): number {
  let start = index.lowerBound(params.prefix);
  if (params.startAfter) start = Math.max(start, index.upperBound(params.startAfter));
  const token = params.continuationToken ? decodeToken(params.continuationToken) : undefined;
  if (token?.kind === "k") start = Math.max(start, index.upperBound(token.value));
  if (token?.kind === "p") {
    const from = Math.max(start, index.lowerBound(token.value));
    start = Math.max(start, index.endOfPrefix(token.value, from));
  }
  return start;
}

/**
 * The XML of one ListObjectsV2 page. Costs O(log n + page), plus one binary search per
 * common prefix.
 *
 * @throws {Error} "InvalidArgument" when the continuation token is not one of ours.
 */
export function listPage(index: KeyIndex, params: ListParams): string {
  if (params.continuationToken && !decodeToken(params.continuationToken)) {
    throw new Error("InvalidArgument");
  }
  const url = params.encodingType === "url";
  const encode = url ? s3UrlEncode : xmlEscape;
  const { prefix, delimiter, maxKeys } = params;
  const keys = index.keys;
  const sizes = index.sizes;
  const afterKey = `</Key><LastModified>${params.lastModified}</LastModified><ETag>`;
  let contents = "";
  let count = 0;
  const commonPrefixes: string[] = [];
  let position = startIndex(index, params);
  let last: { kind: "k" | "p"; value: string } | undefined;
  while (count + commonPrefixes.length < maxKeys && position < keys.length) {
    const key = keys[position]!;
    if (!key.startsWith(prefix)) {
      position = keys.length;
      break;
    }
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut !== -1) {
      const common = key.slice(0, cut + delimiter!.length);
      commonPrefixes.push(`<CommonPrefixes><Prefix>${encode(common)}</Prefix></CommonPrefixes>`);
      last = { kind: "p", value: common };
      position = index.endOfPrefix(common, position);
      continue;
    }
    contents += "<Contents><Key>" + encode(key) + afterKey + fakeEtag(key) + "</ETag><Size>" +
      sizes[position] + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
    count++;
    last = { kind: "k", value: key };
    position++;
  }
  const truncated = last !== undefined && position < keys.length &&
    keys[position]!.startsWith(prefix);
  const head = [
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
    `<Name>${xmlEscape(params.bucket)}</Name><Prefix>${encode(prefix)}</Prefix>`,
    params.startAfter !== undefined ? `<StartAfter>${encode(params.startAfter)}</StartAfter>` : "",
    params.continuationToken !== undefined
      ? `<ContinuationToken>${xmlEscape(params.continuationToken)}</ContinuationToken>`
      : "",
    truncated
      ? `<NextContinuationToken>${encodeToken(last!.kind, last!.value)}</NextContinuationToken>`
      : "",
    `<KeyCount>${count + commonPrefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
    delimiter !== undefined ? `<Delimiter>${encode(delimiter)}</Delimiter>` : "",
    url ? `<EncodingType>url</EncodingType>` : "",
    `<IsTruncated>${truncated}</IsTruncated>`,
  ];
  return head.join("") + contents + commonPrefixes.join("") + "</ListBucketResult>";
}
