import assert from "node:assert/strict";
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { S3Store } from "../lib/s3/aws_store.ts";
import { decodeKey } from "../lib/s3/list_page.ts";
import { listInOrder, splitPointsEvery } from "../lib/scan/listing.ts";
import { byteOrder } from "./helpers/listing_probe.ts";
import { startMotoAllowingLineBreaks } from "./helpers/moto_line_breaks.ts";
import { rgwAvailable, startRgw } from "./helpers/rgw.ts";
import { testClient } from "./helpers/s3_server.ts";

const PREFIX = "nas/";
/** Keys that URL encoding, XML and sorting get wrong when anything is off. */
const NASTY = [
  "a b",
  "a+b",
  "a%b",
  "a%20b",
  "a%2Bb",
  "trail ",
  " lead",
  "line\nbreak",
  "crlf\r\nx",
  "tab\tx",
  "ctl\u0001x",
  "amp&amp;<>\"'",
  "é",
  "e\u0301",
  "日本/語",
  "😀",
  "\uFFFD",
  "a/",
  "a-b",
  "a.b",
];
const KEYS = [
  ...NASTY.map((name) => PREFIX + name),
  ...Array.from({ length: 12 }, (_, i) => `${PREFIX}plain/${i}.txt`),
].sort(byteOrder);
const OUTSIDE = ["nas", "nas.x", "nas0", "other/a b"];
const PAGE = 3;

function clientOf(endpoint: string, maxKeys?: number): S3Client {
  const client = testClient(endpoint);
  // Small pages, so that a few dozen keys take many continuations.
  if (maxKeys !== undefined) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const request = args.request as { query?: Record<string, string> };
        if (context.commandName === "ListObjectsV2Command" && request.query) {
          request.query["max-keys"] = String(maxKeys);
        }
        return next(args);
      },
      { step: "build", name: "testMaxKeys" },
    );
  }
  return client;
}

/** Every key under PREFIX, paging with the server's ContinuationToken instead. */
async function listByToken(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: PREFIX,
        ContinuationToken: token,
        EncodingType: "url",
      }),
    );
    keys.push(...(page.Contents ?? []).map((object) => decodeKey(object.Key!)));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function checkListing(endpoint: string): Promise<void> {
  const setup = clientOf(endpoint);
  const paged = clientOf(endpoint, PAGE);
  try {
    const bucket = `listing-${crypto.randomUUID().slice(0, 8)}`;
    await setup.send(new CreateBucketCommand({ Bucket: bucket }));
    await Promise.all(
      [...KEYS, ...OUTSIDE].map((key) =>
        setup.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "x" }))
      ),
    );
    const store = new S3Store(paged, bucket);
    const keysOf = async (pages: AsyncIterable<{ key: string }[]>) => {
      const keys: string[] = [];
      for await (const page of pages) {
        assert.ok(page.length <= PAGE);
        keys.push(...page.map((object) => object.key));
      }
      return keys;
    };

    assert.deepEqual(await keysOf(store.list(PREFIX)), KEYS, "in S3 order, decoded");
    assert.equal(store.requestCounts().ListObjectsV2, Math.ceil(KEYS.length / PAGE));
    for (const [index, key] of KEYS.entries()) {
      const after = await keysOf(store.list(PREFIX, { startAfter: key }));
      assert.deepEqual(after, KEYS.slice(index + 1), `after ${JSON.stringify(key)}`);
    }
    assert.deepEqual(await keysOf(store.list(PREFIX, { startAfter: "a" })), KEYS, "before");
    assert.deepEqual(await keysOf(store.list(PREFIX, { startAfter: "nas0" })), [], "beyond");
    const between = `${PREFIX}a b!`; // not a key: between "a b" and "a%b"
    assert.deepEqual(
      await keysOf(store.list(PREFIX, { startAfter: between })),
      KEYS.filter((key) => byteOrder(key, between) > 0),
    );

    const splits = splitPointsEvery(KEYS, 4);
    for (const concurrency of [1, 4]) {
      const listed = await keysOf(listInOrder(store, PREFIX, { splits, concurrency }));
      assert.deepEqual(listed, KEYS, `listInOrder, concurrency ${concurrency}`);
    }
    // The server's own tokens reach the same keys: either way of paging is sound here.
    assert.deepEqual(await listByToken(paged, bucket), KEYS, "paging by ContinuationToken");
  } finally {
    setup.destroy();
    paged.destroy();
  }
}

Deno.test("S3Store.list() starts after any key and pages by StartAfter against moto", async () => {
  // moto patched to store keys with line breaks, as real S3 does.
  const moto = await startMotoAllowingLineBreaks();
  try {
    await checkListing(moto.endpoint);
  } finally {
    await moto.stop();
  }
});

Deno.test({
  name: "S3Store.list() starts after any key and pages by StartAfter against Ceph RGW",
  ignore: !rgwAvailable(),
  async fn() {
    // RGW's continuation token is the raw last key: the case that made us page by StartAfter.
    const rgw = await startRgw({ storageClasses: [] });
    try {
      await checkListing(rgw.endpoint);
    } finally {
      await rgw.stop();
    }
  },
});
