/**
 * The listing's own reader of ListObjectsV2 answers: fields, XML entities, URL-encoded
 * keys, what other servers add, and answers it must leave to the SDK.
 */
import assert from "node:assert/strict";
import { decodeKey, parseListPage, unescapeXml } from "../lib/s3/list_page.ts";

const AWS_PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>p/a+b%2Bc%20d.jpg</Key><LastModified>2026-11-30T08:00:00.123Z</LastModified><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>p/caf%C3%A9/%F0%9F%93%B7%0A.jpg</Key><LastModified>2026-11-30T08:00:01.000Z</LastModified><ETag>&quot;9e107d9d372bb6826bd81d3542a419d6-2&quot;</ETag><Size>123456789012</Size><StorageClass>DEEP_ARCHIVE</StorageClass><Type>Normal</Type></Contents>
<Contents><Key>p/amp%26%3C%3E%22%27</Key><LastModified>2026-11-30T08:00:02Z</LastModified><ETag>"e3"</ETag><Size>0</Size></Contents>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><StartAfter>p/</StartAfter></ListBucketResult>`;

Deno.test("parseListPage() reads keys, sizes, times, ETags, classes and the page's end", () => {
  const page = parseListPage(AWS_PAGE);
  assert.equal(page.isTruncated, true);
  assert.equal(page.nextContinuationToken, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  assert.deepEqual(page.objects, [
    {
      key: "p/a b+c d.jpg",
      size: 1,
      lastModifiedMs: Date.parse("2026-11-30T08:00:00.123Z"),
      etag: '"0cc175b9c0f1b6a831c399e269772661"',
    },
    {
      key: "p/café/📷\n.jpg",
      size: 123456789012,
      lastModifiedMs: Date.parse("2026-11-30T08:00:01Z"),
      etag: '"9e107d9d372bb6826bd81d3542a419d6-2"',
      storageClass: "DEEP_ARCHIVE",
    },
    {
      key: `p/amp&<>"'`,
      size: 0,
      lastModifiedMs: Date.parse("2026-11-30T08:00:02Z"),
      etag: '"e3"',
    },
  ]);
});

Deno.test("parseListPage() reads keys XML-escaped when the server did not URL-encode them", () => {
  const page = parseListPage(
    "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a &amp; b&#13;&#x1F4F7;&lt;</Key>" +
      "<Size>2</Size><LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
  );
  assert.equal(page.isTruncated, false);
  assert.deepEqual(page.objects.map((object) => object.key), ["a & b\r📷<"]);
  assert.equal(page.objects[0]!.etag, undefined);
});

Deno.test("parseListPage() reads an empty page, and refuses what is not a ListBucketResult", () => {
  assert.deepEqual(
    parseListPage(
      "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>",
    ),
    { objects: [], isTruncated: false },
  );
  assert.throws(
    () => parseListPage("<Error><Code>NoSuchBucket</Code></Error>"),
    /not a ListBucketResult/,
  );
  assert.throws(
    () => parseListPage("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>"),
    /has no key/,
  );
});

Deno.test("decodeKey() and unescapeXml() leave plain text alone", () => {
  assert.equal(decodeKey("plain/key.jpg"), "plain/key.jpg");
  assert.equal(decodeKey("a%25b+c"), "a%b c");
  assert.equal(unescapeXml("no entities"), "no entities");
  assert.equal(unescapeXml("&unknown; &amp;"), "&unknown; &");
});
