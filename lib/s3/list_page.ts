/**
 * The listing is the one request a run sends thousands of, and the AWS SDK's generic XML
 * deserializer spends ~16 µs and several objects per key on it: a million keys cost 16 s
 * of CPU and a few hundred MiB of short-lived garbage. This module reads ListObjectsV2's
 * answer itself — a few fields of each `<Contents>` — while the SDK still signs, sends,
 * retries, and turns error answers into errors: a middleware takes the body of a
 * successful answer before the SDK's deserializer sees it.
 *
 * @module
 */
import {
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import type { DeserializeMiddleware, InitializeMiddleware } from "@smithy/types";
import { Readable } from "node:stream";
import type { RemoteObject } from "./store.ts";

/** What one page of a ListObjectsV2 answer says. */
export interface ListPage {
  /** The objects, keys decoded. */
  objects: RemoteObject[];
  /** More keys follow. */
  isTruncated: boolean;
  /** Where the next page starts, if the server said. */
  nextContinuationToken?: string;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Resolves XML character and entity references. */
export function unescapeXml(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[name] ?? whole;
  });
}

/** Decodes a key of a listing made with `EncodingType: "url"` (as botocore does). */
export function decodeKey(key: string): string {
  const spaced = key.includes("+") ? key.replaceAll("+", " ") : key;
  return spaced.includes("%") ? decodeURIComponent(spaced) : spaced;
}

function element(xml: string, name: string, from: number, to: number): string | undefined {
  const open = xml.indexOf(`<${name}>`, from);
  if (open < 0 || open >= to) return undefined;
  const start = open + name.length + 2;
  const end = xml.indexOf(`</${name}>`, start);
  return end < 0 || end > to ? undefined : xml.slice(start, end);
}

/** An element's opening and closing tags, made once: every object of every page looks for them. */
interface Tag {
  open: string;
  close: string;
}

const tag = (name: string): Tag => ({ open: `<${name}>`, close: `</${name}>` });
const CONTENTS = tag("Contents");
const KEY = tag("Key");
const SIZE = tag("Size");
const LAST_MODIFIED = tag("LastModified");
const ETAG = tag("ETag");
const STORAGE_CLASS = tag("StorageClass");

/**
 * Where the text of element `tag` lies within `[from, to)` of `xml`: its start, with its
 * end in `span.end`; -1 when it is not there.
 */
function find(xml: string, { open, close }: Tag, from: number, to: number, span: Span): number {
  const at = xml.indexOf(open, from);
  if (at < 0 || at >= to) return -1;
  const start = at + open.length;
  const end = xml.indexOf(close, start);
  if (end < 0 || end > to) return -1;
  span.end = end;
  return start;
}

interface Span {
  end: number;
}

const QUOT = "&quot;";

/** The ETag in `xml[start, end)`: most often `&quot;hex&quot;`, read without a regex. */
function quotedEtagAt(xml: string, start: number, end: number): string {
  const inner = start + QUOT.length;
  const innerEnd = end - QUOT.length;
  if (
    innerEnd >= inner && xml.startsWith(QUOT, start) && xml.startsWith(QUOT, innerEnd) &&
    xml.indexOf("&", inner) >= innerEnd
  ) {
    return `"${xml.slice(inner, innerEnd)}"`;
  }
  return unescapeXml(xml.slice(start, end));
}

const DIGIT_0 = 48;

/** The decimal number in `xml[start, end)`, NaN if it is not one. */
function integerAt(xml: string, start: number, end: number): number {
  if (start >= end) return NaN;
  let value = 0;
  for (let index = start; index < end; index++) {
    const digit = xml.charCodeAt(index) - DIGIT_0;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The time in `xml[start, end)` in ms since the epoch. S3's form
 * (`2026-11-30T08:00:00.123Z`, with or without the fraction) is read digit by digit;
 * anything else goes to `Date.parse` (0 if that cannot read it either).
 */
function timeAt(xml: string, start: number, end: number): number {
  const fixed = start + 19; // just after the seconds
  if (
    end > fixed && xml.charCodeAt(end - 1) === 0x5a /* Z */ &&
    xml.charCodeAt(start + 10) === 0x54 /* T */
  ) {
    let ms = 0;
    if (end - 1 > fixed) {
      // A fraction: "." and digits, of which the first three are the milliseconds.
      if (xml.charCodeAt(fixed) !== 0x2e) return Date.parse(xml.slice(start, end)) || 0;
      const digits = Math.min(end - 1 - (fixed + 1), 3);
      ms = integerAt(xml, fixed + 1, fixed + 1 + digits) * 10 ** (3 - digits);
    }
    const time = Date.UTC(
      integerAt(xml, start, start + 4),
      integerAt(xml, start + 5, start + 7) - 1,
      integerAt(xml, start + 8, start + 10),
      integerAt(xml, start + 11, start + 13),
      integerAt(xml, start + 14, start + 16),
      integerAt(xml, start + 17, start + 19),
      ms,
    );
    if (!Number.isNaN(time)) return time;
  }
  return Date.parse(xml.slice(start, end)) || 0;
}

/**
 * Reads a ListObjectsV2 answer (the XML of a successful response).
 *
 * @throws {Error} when the text is not a ListBucketResult.
 *
 * @example
 * ```ts
 * const page = parseListPage(
 *   "<ListBucketResult><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>" +
 *     "<Contents><Key>p/a%20b.jpg</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>" +
 *     "<ETag>&quot;e1&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>" +
 *     "</ListBucketResult>",
 * );
 * console.log(page.objects); // [{ key: "p/a b.jpg", size: 5, lastModifiedMs: 1767225600000, etag: '"e1"' }]
 * ```
 */
export function parseListPage(xml: string): ListPage {
  const root = xml.indexOf("<ListBucketResult");
  if (root < 0) throw new Error("the answer to ListObjectsV2 is not a ListBucketResult");
  const firstContents = xml.indexOf("<Contents>", root);
  // Top-level fields appear once; S3 puts IsTruncated before the objects and the rest after.
  const isTruncated = element(xml, "IsTruncated", root, xml.length) === "true";
  const lastContents = xml.lastIndexOf("</Contents>");
  const tail = lastContents < 0 ? root : lastContents;
  const encoding =
    element(xml, "EncodingType", root, firstContents < 0 ? xml.length : firstContents) ??
      element(xml, "EncodingType", tail, xml.length);
  const token = element(xml, "NextContinuationToken", tail, xml.length) ??
    (firstContents < 0 ? undefined : element(xml, "NextContinuationToken", root, firstContents));
  const decode = encoding === "url" ? (key: string) => decodeKey(unescapeXml(key)) : unescapeXml;
  const objects: RemoteObject[] = [];
  const span: Span = { end: 0 };
  for (let start = firstContents; start >= 0; start = xml.indexOf(CONTENTS.open, start)) {
    const end = xml.indexOf(CONTENTS.close, start);
    if (end < 0) throw new Error("the answer to ListObjectsV2 ends inside an object");
    const keyAt = find(xml, KEY, start, end, span);
    if (keyAt < 0) throw new Error("an object of the ListObjectsV2 answer has no key");
    const key = decode(xml.slice(keyAt, span.end));
    const sizeAt = find(xml, SIZE, start, end, span);
    const size = sizeAt < 0 ? 0 : integerAt(xml, sizeAt, span.end);
    const timeStart = find(xml, LAST_MODIFIED, start, end, span);
    const object: RemoteObject = {
      key,
      size: Number.isNaN(size) ? Number(xml.slice(sizeAt, span.end)) : size,
      lastModifiedMs: timeStart < 0 ? 0 : timeAt(xml, timeStart, span.end),
    };
    const etagAt = find(xml, ETAG, start, end, span);
    if (etagAt >= 0) object.etag = quotedEtagAt(xml, etagAt, span.end);
    const classAt = find(xml, STORAGE_CLASS, start, end, span);
    if (classAt >= 0 && !xml.startsWith("STANDARD<", classAt)) {
      object.storageClass = xml.slice(classAt, span.end);
    }
    objects.push(object);
    start = end + CONTENTS.close.length;
  }
  const page: ListPage = { objects, isTruncated };
  if (token !== undefined) page.nextContinuationToken = unescapeXml(token);
  return page;
}

/** The body the SDK's deserializer gets instead of a page it need not read. */
const EMPTY_RESULT = "<ListBucketResult></ListBucketResult>";

interface FastListContext {
  /** The page, read here from the answer's body. */
  listPage?: ListPage;
}

/**
 * A ListObjectsV2 command whose answer comes with its page read by
 * {@linkcode parseListPage}, as the output's `$page` field. Error answers go to the SDK's
 * deserializer untouched, so that they become the errors the SDK throws. Only this
 * command is changed, not the client it is sent with.
 *
 * @example
 * ```ts ignore
 * const output = await client.send(fastListCommand({ Bucket: "b", EncodingType: "url" }));
 * const page = (output as { $page?: ListPage }).$page;
 * ```
 */
export function fastListCommand(input: ListObjectsV2CommandInput): ListObjectsV2Command {
  const command = new ListObjectsV2Command(input);
  type Input = ListObjectsV2CommandInput;
  type Output = ListObjectsV2CommandOutput;
  const read: DeserializeMiddleware<Input, Output> = (next, context) => async (args) => {
    const result = await next(args);
    const response = result.response as {
      statusCode?: number;
      body?: AsyncIterable<Uint8Array>;
    };
    if (!response.body || (response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) {
      return result;
    }
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    const text = new TextDecoder().decode(concat(chunks));
    try {
      (context as FastListContext).listPage = parseListPage(text);
      response.body = Readable.from([EMPTY_RESULT]);
    } catch {
      // Something this reader does not know: the SDK reads the answer as it is.
      response.body = Readable.from([text]);
    }
    return result;
  };
  const attach: InitializeMiddleware<Input, Output> = (next, context) => async (args) => {
    const result = await next(args);
    const page = (context as FastListContext).listPage;
    if (page) Object.assign(result.output, { $page: page });
    return result;
  };
  // Between the deserializer and the transport: the answer's raw body passes here first.
  command.middlewareStack.addRelativeTo(read, {
    relation: "after",
    toMiddleware: "deserializerMiddleware",
    name: "s3SmartSyncFastListRead",
    override: true,
  });
  command.middlewareStack.add(attach, {
    step: "initialize",
    name: "s3SmartSyncFastListAttach",
    override: true,
  });
  return command;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
