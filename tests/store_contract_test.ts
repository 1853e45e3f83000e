/**
 * The {@linkcode ObjectStore} contract, in the spirit of restic's backend tests: one suite
 * of behaviours the interface (lib/s3/store.ts) promises, run against every store —
 * `MemoryStore` in process, and `S3Store` (set up as the CLI sets it up) against moto and
 * against Ceph RGW. Each step gets a fresh bucket (a fresh MemoryStore), so that steps
 * stand alone. Where a store legitimately differs, the step branches on its kind and says
 * why.
 */
import assert from "node:assert/strict";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { S3Store } from "../lib/s3/aws_store.ts";
import { createListClient, createS3Client } from "../lib/s3/client.ts";
import { isNotFound, isPreconditionFailed } from "../lib/s3/errors.ts";
import { MemoryStore, requestDelta } from "../lib/s3/memory_store.ts";
import type { ListOptions, ObjectStore, RemoteObject } from "../lib/s3/store.ts";
import { TEST_ENV } from "./helpers/moto.ts";
import {
  type S3TestServer,
  SERVER_KINDS,
  type ServerKind,
  startServer,
  unavailableReason,
} from "./helpers/servers.ts";

type StoreKind = "memory" | ServerKind;

const MiB = 1024 * 1024;
/** Small enough to upload in parts quickly; 5 MiB is S3's smallest part. */
const TRANSFER = { multipartThreshold: 5 * MiB, partSize: 5 * MiB };

/** A store on a fresh bucket, and a way to put objects beside it as another tool would. */
interface Bucket {
  store: ObjectStore;
  /** Puts an object without the store (and without counting a request). */
  put(key: string, body: string, storageClass?: string): Promise<void>;
  /** The bucket and its server, for S3 stores. */
  s3?: { server: S3TestServer; name: string };
}

interface Harness {
  kind: StoreKind;
  bucket(): Promise<Bucket>;
  /** A local file holding `body`, to upload. */
  file(body: string | Uint8Array): Promise<{ path: string; size: number }>;
}

const bytes = (body: string | Uint8Array) =>
  typeof body === "string" ? new TextEncoder().encode(body) : body;

/** The order S3 lists keys in, computed independently of lib/: by their UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  const [x, y] = [bytes(a), bytes(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

async function listAll(store: ObjectStore, prefix: string, options?: ListOptions) {
  const pages: RemoteObject[][] = [];
  for await (const page of store.list(prefix, options)) pages.push(page);
  return { pages, objects: pages.flat(), keys: pages.flat().map((object) => object.key) };
}

/** Asserts that `promise` rejects with an error `is` accepts. */
function rejectsAs(promise: Promise<unknown>, is: (error: unknown) => boolean, what: string) {
  return assert.rejects(promise, (error) => {
    assert.ok(is(error), `${what}: ${error}`);
    return true;
  });
}

async function listed(store: ObjectStore, key: string): Promise<RemoteObject | undefined> {
  return (await listAll(store, key)).objects.find((object) => object.key === key);
}

const STEPS: Record<string, (h: Harness) => Promise<void>> = {
  async "list: S3 key order (UTF-8 bytes), prefix and startAfter"(h) {
    const b = await h.bucket();
    // U+FF21 and U+1F600 are ordered one way by UTF-16 code units, the other by bytes.
    const names = ["a/b", "a+b", "a-b", "é", "z", "ä", "\uff21", "\u{1f600}", "z/0"];
    const keys = names.map((name) => `order/${name}`);
    await b.store.upload(keys[0]!, await h.file("through the store"));
    await Promise.all(keys.slice(1).map((key) => b.put(key, key)));
    for (const outside of ["order", "order.txt", "order0/x", "orde"]) await b.put(outside, "x");
    const expected = [...keys].sort(byteOrder);
    assert.notDeepEqual(expected, [...keys].sort(), "the keys tell byte from UTF-16 order");
    assert.deepEqual((await listAll(b.store, "order/")).keys, expected);
    const after = async (startAfter: string) =>
      (await listAll(b.store, "order/", { startAfter })).keys;
    for (const [index, key] of expected.entries()) {
      assert.deepEqual(await after(key), expected.slice(index + 1), `after ${key}`);
    }
    assert.deepEqual(await after("a"), expected, "startAfter before the prefix changes nothing");
    assert.deepEqual(await after("order/a,"), expected.slice(1), "startAfter need not exist");
    assert.deepEqual(await after("order/\uffff"), ["order/\u{1f600}"]);
    assert.deepEqual(await after("p"), [], "startAfter beyond the prefix");
    assert.deepEqual((await listAll(b.store, "nothing/")).keys, []);
  },

  async "list: sizes, ETags and storage classes as stored"(h) {
    const b = await h.bucket();
    await b.put("meta/standard", "abc");
    await b.put("meta/ia", "hello", "STANDARD_IA");
    await b.store.upload("meta/empty", await h.file(""));
    const before = Date.now();
    const uploaded = await b.store.upload("meta/uploaded", await h.file("1234567"));
    const objects = new Map((await listAll(b.store, "meta/")).objects.map((o) => [o.key, o]));
    const rows = [...objects.values()].map((o) => [o.key, o.size, o.storageClass]);
    assert.deepEqual(rows, [
      ["meta/empty", 0, undefined],
      ["meta/ia", 5, "STANDARD_IA"],
      ["meta/standard", 3, undefined],
      ["meta/uploaded", 7, undefined],
    ]);
    for (const [key, object] of objects) {
      assert.match(object.etag ?? "", /^"[^"]+"$/, `${key}: ETag with its quotes`);
      assert.equal(object.etag, (await b.store.head(key))?.etag, `${key}: listed ETag = head's`);
    }
    assert.equal(objects.get("meta/uploaded")!.etag, uploaded.etag);
    const modified = objects.get("meta/uploaded")!.lastModifiedMs;
    assert.ok(Math.abs(modified - before) < 5_000, `lastModifiedMs ${modified} is about now`);
  },

  async "list: more than one page, one request per page asked for"(h) {
    const b = await h.bucket();
    const keys = Array.from({ length: 1005 }, (_, i) => `page/${String(i).padStart(4, "0")}`);
    await b.store.upload(keys[0]!, await h.file("first"));
    for (let i = 1; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => b.put(key, key)));
    }
    await b.put("pagf", "outside the prefix");
    let counts = b.store.requestCounts();
    const { pages, keys: all } = await listAll(b.store, "page/");
    assert.deepEqual(all, keys);
    assert.ok(pages.length >= 2, `${pages.length} pages`);
    assert.ok(pages.every((page) => page.length <= 1000));
    assert.deepEqual(requestDelta(counts, b.store.requestCounts()), {
      ListObjectsV2: pages.length,
    });
    const rest = (await listAll(b.store, "page/", { startAfter: keys[998] })).keys;
    assert.deepEqual(rest, keys.slice(999), "startAfter");
    counts = b.store.requestCounts();
    for await (const _page of b.store.list("page/")) break;
    assert.deepEqual(requestDelta(counts, b.store.requestCounts()), { ListObjectsV2: 1 });
  },

  async "upload then head: size, ETag, storage class"(h) {
    const b = await h.bucket();
    const plain = await b.store.upload("up/plain", await h.file("plain text"));
    assert.equal(plain.sse, "", "no encryption asked: the bucket's default");
    const head = await b.store.head("up/plain");
    assert.equal(head?.size, 10);
    assert.equal(head?.etag, plain.etag);
    assert.equal(head?.storageClass, undefined, "undefined: STANDARD");
    const options = { storageClass: "STANDARD_IA", contentType: "text/plain" };
    const ia = await b.store.upload("up/ia", await h.file("infrequent"), options);
    const iaHead = await b.store.head("up/ia");
    assert.equal(iaHead?.size, 10);
    assert.equal(iaHead?.etag, ia.etag);
    assert.equal(iaHead?.storageClass, "STANDARD_IA");
    assert.equal((await listed(b.store, "up/ia"))?.storageClass, "STANDARD_IA");
    assert.equal(await b.store.head("up/missing"), undefined, "head of a missing key");
    assert.equal(await b.store.head("up/pla"), undefined, "a prefix of a key is not the key");
  },

  async "upload: uploadsInParts says how a file is sent, and it is sent so"(h) {
    const b = await h.bucket();
    const threshold = TRANSFER.multipartThreshold;
    // A file of exactly the threshold and the part size fits one part: one PutObject.
    const sizes = [threshold - 1, threshold, threshold + 1];
    for (const size of sizes) {
      const operation = b.store.uploadsInParts?.(size) ? "CompleteMultipartUpload" : "PutObject";
      if (h.kind === "memory") assert.equal(operation, "PutObject", "never in parts");
      else assert.equal(operation === "PutObject", size <= TRANSFER.partSize, `${size} B`);
      const counts = b.store.requestCounts();
      let told = 0;
      const result = await b.store.upload(`mp/${size}`, await h.file(new Uint8Array(size)), {
        onProgress: (sent) => told += sent,
      });
      assert.equal(requestDelta(counts, b.store.requestCounts())[operation], 1, `${size} B`);
      const head = await b.store.head(`mp/${size}`);
      assert.equal(head?.size, size);
      const parts = operation !== "PutObject";
      assert.equal(/-2"$/.test(head?.etag ?? ""), parts, `multipart ETag: ${head?.etag}`);
      // RGW answers CompleteMultipartUpload with an empty ETag: "if the server said".
      if (!(parts && h.kind === "rgw")) assert.equal(result.etag, head?.etag);
      if (parts) assert.ok(told > 0 && told <= size, `onProgress told ${told} of ${size}`);
    }
  },

  async "copy: keeps size, ETag and storage class"(h) {
    const b = await h.bucket();
    const source = await b.store.upload("cp/src", await h.file("copy me"));
    const copied = await b.store.copy("cp/src", "cp/dst");
    assert.equal(copied.etag, source.etag, "a single-part copy keeps the ETag");
    assert.deepEqual(await b.store.head("cp/dst"), await b.store.head("cp/src"));
    assert.equal((await b.store.head("cp/src"))?.size, 7, "the source stays");
    await b.put("cp/ia", "infrequent", "STANDARD_IA");
    // Told the class: every store keeps it.
    const told = await b.store.copy("cp/ia", "cp/ia-told", { storageClass: "STANDARD_IA" });
    assert.equal(told.storageClass, "STANDARD_IA");
    assert.equal((await listed(b.store, "cp/ia-told"))?.storageClass, "STANDARD_IA");
    // Not told: the store reads it from the source.
    const read = await b.store.copy("cp/ia", "cp/ia-read");
    assert.equal(read.storageClass, "STANDARD_IA");
    assert.equal((await listed(b.store, "cp/ia-read"))?.storageClass, "STANDARD_IA");
    assert.equal((await b.store.head("cp/ia-read"))?.size, 10);
  },

  async "copy: a stale ETag or a missing source fails, and makes nothing"(h) {
    const b = await h.bucket();
    const stale = (await b.store.upload("pre/src", await h.file("version 1"))).etag!;
    const fresh = (await b.store.upload("pre/src", await h.file("version 2!"))).etag!;
    assert.notEqual(stale, fresh);
    const known = { storageClass: "STANDARD", sse: "", size: 10 };
    const attempts = [
      { ifMatch: stale },
      { ...known, ifMatch: stale, checkSource: true },
      // Only the copy's own precondition guards this one, which moto ignores (see
      // CopyOptions.checkSource): a server's known gap, not the store's.
      ...(h.kind === "moto" ? [] : [{ ...known, ifMatch: stale }]),
    ];
    for (const [index, options] of attempts.entries()) {
      const copy = b.store.copy("pre/src", `pre/dst${index}`, options);
      await rejectsAs(copy, isPreconditionFailed, JSON.stringify(options));
      assert.equal(await b.store.head(`pre/dst${index}`), undefined, "no destination");
    }
    await b.store.copy("pre/src", "pre/ok", { ...known, ifMatch: fresh });
    assert.equal((await b.store.head("pre/ok"))?.etag, fresh);
    for (const options of [{}, { ...known, ifMatch: fresh }]) {
      const copy = b.store.copy("pre/missing", "pre/dst", options);
      await rejectsAs(copy, isNotFound, JSON.stringify(options));
    }
    assert.equal(await b.store.head("pre/dst"), undefined);
    assert.deepEqual((await listAll(b.store, "pre/")).keys, ["pre/ok", "pre/src"]);
  },

  async "deleteMany: deletes, and a missing key is no failure"(h) {
    const b = await h.bucket();
    for (const key of ["del/a", "del/b", "del/c"]) await b.put(key, key);
    assert.deepEqual(await b.store.deleteMany(["del/a", "del/b", "del/never"]), []);
    assert.deepEqual((await listAll(b.store, "del/")).keys, ["del/c"]);
    assert.deepEqual(await b.store.deleteMany(["del/a"]), [], "deleting again");
    assert.equal(await b.store.head("del/a"), undefined);
  },

  async "readable: served now unless archived; a missing key throws"(h) {
    const b = await h.bucket();
    await b.put("rd/standard", "bytes");
    await b.store.upload("rd/empty", await h.file(""));
    await b.put("rd/glacier", "cold", "GLACIER");
    assert.equal(await b.store.readable("rd/standard"), true);
    assert.equal(await b.store.readable("rd/empty"), true, "an empty object is readable");
    // S3 (and moto, and MemoryStore by default) refuse GLACIER bytes until a restore; RGW
    // treats archive classes as labels and serves them (as the interface says).
    assert.equal(await b.store.readable("rd/glacier"), h.kind === "rgw");
    await rejectsAs(b.store.readable("rd/missing"), isNotFound, "readable of a missing key");
  },

  async "abortMultipartUploads: aborts the uploads to exactly this key"(h) {
    const b = await h.bucket();
    assert.equal(await b.store.abortMultipartUploads("mpu/x"), 0);
    if (!b.s3) return; // MemoryStore has no multipart uploads to abort.
    const { server, name } = b.s3;
    const open = (Key: string) =>
      server.client.send(new CreateMultipartUploadCommand({ Bucket: name, Key }));
    await open("mpu/x");
    await open("mpu/x");
    const other = await open("mpu/x2");
    assert.equal(await b.store.abortMultipartUploads("mpu/x"), 2);
    assert.equal(await b.store.abortMultipartUploads("mpu/x"), 0);
    const left = await server.client.send(new ListMultipartUploadsCommand({ Bucket: name }));
    assert.deepEqual(left.Uploads?.map((upload) => upload.Key), ["mpu/x2"]);
    const abort = { Bucket: name, Key: "mpu/x2", UploadId: other.UploadId };
    await server.client.send(new AbortMultipartUploadCommand(abort));
  },

  async "requestCounts: by S3 operation name"(h) {
    const b = await h.bucket();
    assert.deepEqual(b.store.requestCounts(), {});
    const expect = async (operations: Record<string, number>, action: () => Promise<unknown>) => {
      const before = b.store.requestCounts();
      await action();
      assert.deepEqual(requestDelta(before, b.store.requestCounts()), operations);
    };
    await expect({ ListObjectsV2: 1 }, () => listAll(b.store, "rc/"));
    const file = await h.file("counted");
    const { etag } = await b.store.upload("rc/a", file);
    await expect({ PutObject: 1 }, () => b.store.upload("rc/b", file));
    const heads = () => Promise.all([b.store.head("rc/a"), b.store.head("rc/no")]);
    await expect({ HeadObject: 2 }, heads);
    const known = { storageClass: "STANDARD", sse: "", size: file.size, ifMatch: etag };
    await expect({ CopyObject: 1 }, () => b.store.copy("rc/a", "rc/c", known));
    const checked = () => b.store.copy("rc/a", "rc/d", { ...known, checkSource: true });
    await expect({ HeadObject: 1, CopyObject: 1 }, checked);
    await expect({ DeleteObjects: 1 }, () => b.store.deleteMany(["rc/a", "rc/b"]));
    const counts = b.store.requestCounts();
    counts.PutObject = 99;
    assert.notEqual(b.store.requestCounts().PutObject, 99, "a copy of the counts");
  },

  async "odd keys round-trip through upload, list, copy and delete"(h) {
    const b = await h.bucket();
    const names = ["with space", "plus+sign", "100%", "a%2Fb", "what?", "hash#tag", "tab\there"];
    names.push("caf\u00e9", "cafe\u0301"); // NFC and NFD: two distinct keys
    const keys = names.map((name) => `odd/${name}`).sort(byteOrder);
    for (const key of keys) await b.store.upload(key, await h.file(key));
    const sizes = (objects: RemoteObject[]) => objects.map((o) => [o.key, o.size]);
    const expected = keys.map((key) => [key, bytes(key).length]);
    assert.deepEqual(sizes((await listAll(b.store, "odd/")).objects), expected);
    for (const key of keys) {
      assert.equal((await b.store.head(key))?.size, bytes(key).length, key);
      await b.store.copy(key, `copied/${key}`);
      assert.equal((await b.store.head(`copied/${key}`))?.etag, (await b.store.head(key))?.etag);
    }
    const copies = keys.map((key) => `copied/${key}`);
    assert.deepEqual((await listAll(b.store, "copied/")).keys, copies);
    assert.deepEqual(await b.store.deleteMany([...keys, ...copies]), []);
    assert.deepEqual((await listAll(b.store, "")).keys, []);
  },
};

function harness(kind: StoreKind, dir: string, clients: S3Client[], server?: S3TestServer) {
  let files = 0;
  return {
    kind,
    async file(body) {
      const path = `${dir}/${++files}`;
      await Deno.writeFile(path, bytes(body));
      return { path, size: bytes(body).length };
    },
    async bucket() {
      if (!server) {
        const store = new MemoryStore();
        const put = (key: string, body: string, storageClass?: string) =>
          Promise.resolve(store.put(key, {
            size: bytes(body).length,
            lastModifiedMs: Math.floor(Date.now() / 1000) * 1000,
            etag: store.nextEtag(),
            ...(storageClass ? { storageClass } : {}),
          }));
        return { store, put };
      }
      const name = await server.bucket("contract");
      // As the CLI opens a store (lib/cli/command.ts), with the test credentials.
      const connection = { endpoint: server.endpoint, region: "us-east-1", transfer: TRANSFER };
      const client = await createS3Client(connection);
      const listClient = await createListClient(connection, client);
      clients.push(client, listClient);
      return {
        store: new S3Store(client, name, { ...connection.transfer, listClient }),
        put: (key, body, storageClass) => server.put(name, key, body, { storageClass }),
        s3: { server, name },
      };
    },
  } satisfies Harness;
}

for (const kind of ["memory", ...SERVER_KINDS] as const) {
  const name = `ObjectStore contract [${kind}]`;
  const reason = kind === "memory" ? undefined : unavailableReason(kind);
  if (reason !== undefined) {
    console.warn(`SKIPPED "${name}": ${reason}`);
    Deno.test({ name, ignore: true, fn: () => {} });
    continue;
  }
  Deno.test(name, async (t) => {
    // createS3Client takes credentials as the CLI does, from the environment: the test ones.
    for (const [variable, value] of Object.entries(TEST_ENV)) Deno.env.set(variable, value);
    for (const variable of ["AWS_PROFILE", "AWS_SESSION_TOKEN"]) Deno.env.delete(variable);
    const server = kind === "memory" ? undefined : await startServer(kind);
    const dir = await Deno.makeTempDir({ prefix: "store-contract-" });
    const clients: S3Client[] = [];
    try {
      const h = harness(kind, dir, clients, server);
      for (const [step, body] of Object.entries(STEPS)) await t.step(step, () => body(h));
    } finally {
      for (const client of clients) client.destroy();
      await server?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
