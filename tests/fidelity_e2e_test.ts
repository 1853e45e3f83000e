/**
 * S3 fidelity against moto and Ceph RGW: multipart copies that keep everything, encryption,
 * names as on disk (and the move of NFC-keyed mirrors), names that cannot be keys,
 * throttling retried.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
} from "@aws-sdk/client-s3";
import { Fixture, requests } from "./helpers/fixture.ts";
import { HttpProxy, operationOf, s3Error } from "./helpers/loopback_s3_proxy.ts";
import { childEnv } from "./helpers/moto.ts";
import { forEachServer, type S3TestServer } from "./helpers/servers.ts";

/** The SSE-KMS key of the RGW this suite starts (see {@linkcode RGW_OPTIONS}). */
const RGW_KMS_KEY = "testkey-1";

/** RGW as this suite needs it: SSE-KMS over plain HTTP, with a key from the config. */
const RGW_OPTIONS = {
  rgwConfig: {
    // SSE over plain HTTP (the tests' loopback) is refused (400) unless this is off.
    rgw_crypt_require_ssl: false,
    // SSE-KMS keys from the config instead of a key server: name=base64 of 32 bytes.
    rgw_crypt_s3_kms_backend: "testing",
    rgw_crypt_s3_kms_encryption_keys: `${RGW_KMS_KEY}=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo=`,
  },
};

/** A KMS key id for --sse-kms-key-id: moto makes one through its KMS API; RGW's is configured. */
async function kmsKey(server: S3TestServer): Promise<string> {
  if (server.kind === "rgw") return RGW_KMS_KEY;
  const key = await new Deno.Command("aws", {
    args: [
      "kms",
      "create-key",
      "--endpoint-url",
      server.endpoint,
      "--region",
      "us-east-1",
      "--query",
      "KeyMetadata.Arn",
      "--output",
      "text",
    ],
    env: childEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(key.code, 0, new TextDecoder().decode(key.stderr));
  return new TextDecoder().decode(key.stdout).trim();
}

forEachServer("S3 fidelity against a real S3 server", async (t, server) => {
  await t.step(
    "a forced multipart copy keeps content, headers, metadata, tags and class",
    async () => {
      const f = await Fixture.create(server);
      try {
        const big = new Uint8Array(12 * 1024 * 1024);
        for (let i = 0; i < big.length; i += 1000) big[i] = (i / 1000) % 256;
        await Deno.mkdir(`${f.src}/raw`);
        await Deno.writeFile(`${f.src}/raw/clip.mp4`, big);
        await server.put(f.bucket, `${f.prefix}raw/clip.mp4`, big, {
          storageClass: "STANDARD_IA",
          contentType: "video/mp4",
          metadata: { camera: "x100", "shot-on": "2024-05-01" },
          tagging: "project=alpha&keep=forever",
          contentDisposition: 'attachment; filename="clip.mp4"',
          cacheControl: "max-age=3600",
          contentEncoding: "identity",
        });
        const force = ["--copy-multipart-threshold", "5MiB", "--copy-part-size", "5MiB"];
        const first = await f.runOk("sync", force);
        assert.equal(first.json.adopted, 1);
        await Deno.rename(`${f.src}/raw`, `${f.src}/edited`);
        const run = await f.runOk("sync", force);
        assert.equal(run.json.moves, 1);
        assert.equal(requests(run.json, "CopyObject"), 0);
        assert.equal(requests(run.json, "CreateMultipartUpload"), 1);
        assert.equal(requests(run.json, "UploadPartCopy"), 3);
        assert.equal(requests(run.json, "CompleteMultipartUpload"), 1);
        assert.equal(requests(run.json, "PutObject") + requests(run.json, "UploadPart"), 0);
        const head = await server.head(f.bucket, `${f.prefix}edited/clip.mp4`);
        assert.equal(head.StorageClass, "STANDARD_IA");
        assert.equal(head.ContentType, "video/mp4");
        assert.equal(head.ContentDisposition, 'attachment; filename="clip.mp4"');
        assert.equal(head.CacheControl, "max-age=3600");
        assert.equal(head.ContentEncoding, "identity");
        assert.deepEqual(head.Metadata, { camera: "x100", "shot-on": "2024-05-01" });
        assert.deepEqual(await server.tags(f.bucket, `${f.prefix}edited/clip.mp4`), {
          project: "alpha",
          keep: "forever",
        });
        await f.assertMirrors();
        const open = await server.client.send(
          new ListMultipartUploadsCommand({ Bucket: f.bucket }),
        );
        assert.equal((open.Uploads ?? []).length, 0, "no multipart upload is left open");
      } finally {
        await f.cleanup();
      }
    },
  );

  await t.step(
    "uploads with --sse keep their encryption when moved (SSE-S3 and SSE-KMS)",
    async () => {
      const f = await Fixture.create(server);
      try {
        const keyArn = await kmsKey(server);

        await f.write({ "s3.txt": "sse-s3" });
        await f.runOk("sync", ["--sse", "AES256"]);
        await f.write({ "kms.txt": "sse-kms" });
        await f.runOk("sync", ["--sse", "aws:kms", "--sse-kms-key-id", keyArn]);
        assert.equal((await server.head(f.bucket, `${f.prefix}kms.txt`)).SSEKMSKeyId, keyArn);

        await Deno.mkdir(`${f.src}/moved`);
        await Deno.rename(`${f.src}/s3.txt`, `${f.src}/moved/s3.txt`);
        await Deno.rename(`${f.src}/kms.txt`, `${f.src}/moved/kms.txt`);
        const run = await f.runOk("sync");
        if (server.kind === "rgw") {
          // RGW 16 cannot copy an SSE-KMS object (CopyObject answers 501 NotImplemented,
          // whatever the headers): that file goes up again, with the object's encryption.
          assert.equal(run.json.moves, 1, JSON.stringify(run.json));
          assert.equal(run.json.uploads, 1, JSON.stringify(run.json));
        } else assert.equal(run.json.moves, 2);
        await f.assertMirrors();
        const s3 = await server.head(f.bucket, `${f.prefix}moved/s3.txt`);
        // RGW 16 has no SSE-S3: it accepts `x-amz-server-side-encryption: AES256` and stores
        // the object unencrypted (it says so: no encryption header in any answer).
        assert.equal(s3.ServerSideEncryption, server.kind === "rgw" ? undefined : "AES256");
        const kms = await server.head(f.bucket, `${f.prefix}moved/kms.txt`);
        assert.equal(kms.ServerSideEncryption, "aws:kms");
        assert.equal(kms.SSEKMSKeyId, keyArn);

        const bad = await f.run("sync", ["--sse-kms-key-id", keyArn]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--sse-kms-key-id needs --sse aws:kms/);
      } finally {
        await f.cleanup();
      }
    },
  );

  await t.step(
    "names are keys as on disk: NFD and NFC forms of one name are two files, two keys",
    async () => {
      const f = await Fixture.create(server);
      try {
        const nfd = "Cafe\u0301/re\u0301sume\u0301.txt";
        const nfc = nfd.normalize("NFC");
        await f.write({ [nfd]: "decomposed", [nfc]: "composed, another file" });
        const run = await f.runOk("sync");
        assert.equal(run.json.uploads, 2);
        assert.equal(run.json.skipped, 0);
        const keys = (await server.list(f.bucket)).map((object) => object.key).sort();
        assert.deepEqual(keys, [`${f.prefix}${nfc}`, `${f.prefix}${nfd}`].sort());
        await f.assertMirrors();
        const again = await f.runOk("sync", ["--delete"]);
        assert.deepEqual(again.json.requests, { ListObjectsV2: 1 });
      } finally {
        await f.cleanup();
      }
    },
  );

  await t.step(
    "a mirror keyed by NFC names (before v5) is moved to the names as on disk once, not uploaded",
    async () => {
      const f = await Fixture.create(server);
      try {
        const names = ["Cafe\u0301/re\u0301sume\u0301.txt", "Cafe\u0301/photo.jpg", "plain.txt"];
        await f.write(Object.fromEntries(names.map((name, i) => [name, `content ${i}`])));
        await f.runOk("sync");
        // Make it look as an older version left it: objects and rows at NFC keys, the
        // target marked, and one row with another inode (as after a remount).
        const db = new DatabaseSync(`${f.src}/.s3-smart-sync.db`);
        for (const name of names) {
          const nfc = name.normalize("NFC");
          if (nfc === name) continue;
          await server.client.send(
            new CopyObjectCommand({
              Bucket: f.bucket,
              Key: f.prefix + nfc,
              CopySource: `${f.bucket}/${encodeURIComponent(f.prefix + name)}`,
            }),
          );
          await server.client.send(
            new DeleteObjectCommand({ Bucket: f.bucket, Key: f.prefix + name }),
          );
          db.prepare("UPDATE files SET path = ? WHERE path = ?").run(nfc, name);
        }
        db.prepare("UPDATE files SET ino = ino + 1000000 WHERE path LIKE 'Caf%/r%'").run();
        db.exec("UPDATE targets SET nfc_keys = 1");
        db.close();

        const run = await f.runOk("sync", ["--delete"]);
        assert.equal(run.json.moves, 2, JSON.stringify(run.json));
        assert.equal(run.json.uploads, 0);
        assert.equal(run.json.deletes, 0);
        await f.assertMirrors();
        const check = new DatabaseSync(`${f.src}/.s3-smart-sync.db`, { readOnly: true });
        const marked = check.prepare("SELECT nfc_keys FROM targets").get() as {
          nfc_keys: number;
        };
        check.close();
        assert.equal(Number(marked.nfc_keys), 0, "the target is no longer marked");
        const again = await f.runOk("sync", ["--delete"]);
        assert.deepEqual(again.json.requests, { ListObjectsV2: 1 });
      } finally {
        await f.cleanup();
      }
    },
  );

  await t.step(
    "names that cannot be keys are reported and skipped, and the rest is synced",
    async () => {
      const f = await Fixture.create(server);
      try {
        await f.write({ "fine.txt": "ok" });
        // A name that is not UTF-8, and a path whose key would exceed 1024 bytes.
        const python = `open(b"${f.src}/bad\\xff.txt", "wb").write(b"x")`;
        const made = await new Deno.Command("python3", { args: ["-c", python] }).output();
        assert.equal(made.code, 0);
        const deep = `${f.src}/${"d".repeat(255)}/${"e".repeat(255)}/${"f".repeat(255)}/${
          "g".repeat(255)
        }`;
        await Deno.mkdir(deep, { recursive: true });
        await Deno.writeTextFile(`${deep}/long-name.txt`, "too long a key");
        const run = await f.run("sync");
        assert.equal(run.code, 3, run.stderr);
        assert.equal(run.json.uploads, 1);
        assert.match(run.stderr, /not valid UTF-8/);
        assert.match(run.stderr, /S3 keys are at most 1024 bytes/);
        assert.deepEqual((await server.list(f.bucket)).map((object) => object.key), [
          `${f.prefix}fine.txt`,
        ]);
      } finally {
        await f.cleanup();
      }
    },
  );

  await t.step(
    "a CopyObject answered 200 with an error inside is a failure; nothing is deleted",
    async () => {
      const f = await Fixture.create(server);
      let breakCopies = false;
      const proxy = HttpProxy.start(server.endpoint);
      proxy.intercept = (request) =>
        breakCopies && operationOf(request) === "CopyObject"
          ? new Response(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
            { status: 200, headers: { "content-type": "application/xml" } },
          )
          : undefined;
      try {
        await f.write({ "a.txt": "keep me", "b.txt": "b" });
        const viaProxy = ["--endpoint-url", proxy.endpoint];
        await f.runOk("sync", viaProxy);
        await Deno.rename(`${f.src}/a.txt`, `${f.src}/renamed.txt`);
        breakCopies = true;
        const run = await f.run("sync", viaProxy);
        assert.equal(run.code, 1, run.stderr);
        assert.equal(run.json.moves, 0);
        assert.equal(run.json.errors, 1, JSON.stringify(run.json) + run.stderr);
        assert.match(run.stderr, /Cannot move "a\.txt" to "renamed\.txt".*internal error/i);
        assert.equal(requests(run.json, "DeleteObjects"), 0);
        assert.deepEqual((await server.list(f.bucket)).map((object) => object.key).sort(), [
          `${f.prefix}a.txt`,
          `${f.prefix}b.txt`,
        ]);
        breakCopies = false;
        const retry = await f.runOk("sync", viaProxy);
        assert.equal(retry.json.moves, 1);
        await f.assertMirrors();
      } finally {
        await proxy.stop();
        await f.cleanup();
      }
    },
  );

  await t.step("throttling answers (503 SlowDown) are retried and the run succeeds", async () => {
    const f = await Fixture.create(server);
    // A loopback proxy that answers the first PUT of every key with 503 SlowDown.
    const throttled = new Set<string>();
    let slowDowns = 0;
    const proxy = HttpProxy.start(server.endpoint);
    proxy.intercept = (request) => {
      if (request.method !== "PUT" || throttled.has(request.url.pathname)) return undefined;
      throttled.add(request.url.pathname);
      slowDowns++;
      return s3Error(503, "SlowDown", "Please reduce your request rate.");
    };
    try {
      await f.write({ "a.txt": "a", "b.txt": "bb", "c.txt": "ccc" });
      const run = await f.run("sync", ["--endpoint-url", proxy.endpoint]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json.uploads, 3);
      assert.equal(slowDowns, 3);
      assert.equal(requests(run.json, "PutObject"), 6, "each upload was sent twice");
      await f.assertMirrors();
    } finally {
      await proxy.stop();
      await f.cleanup();
    }
  });
}, { rgw: RGW_OPTIONS });
