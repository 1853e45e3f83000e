/**
 * Crash safety against a real S3 server (moto; the kill during a multipart copy runs on
 * Ceph RGW too): a tree of 2,143 files is synced, changed a lot (a swap of two folders'
 * names, a chain of folder renames, folder and file renames, renames onto deleted names,
 * edits, new files, deletes, files above the multipart threshold), and then `sync --delete
 * --force-delete` is killed with SIGKILL at 25 moments and rerun each time. After every
 * kill, no content that was in S3 before the change and still exists locally may be
 * missing from the bucket (under any key), the state DB must be sound, and it must never
 * say that a key holds the local file when it holds other bytes (the next run would trust
 * it forever). A final run must converge.
 */
import assert from "node:assert/strict";
import {
  BucketContents,
  openUploads,
  snapshotState,
  treeFiles,
  untrustworthyRows,
} from "./helpers/bucket_audit.ts";
import { Fixture, requests } from "./helpers/fixture.ts";
import { HttpProxy, operationOf, s3Error } from "./helpers/loopback_s3_proxy.ts";
import { MotoServer, runCli } from "./helpers/moto.ts";
import { forEachServer } from "./helpers/servers.ts";
import { targetArgs, WatchedRun } from "./helpers/killable_cli.ts";

const MiB = 1024 * 1024;

/** Bytes that differ for every seed: a header naming the file, then a cheap pattern. */
function bigContent(seed: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) {
    bytes[index] = (index * 31 + seed * 7 + (index >> 12)) & 255;
  }
  bytes.set(new TextEncoder().encode(`big file, seed ${seed}, ${size} bytes\n`));
  return bytes;
}

let serial = 0;
/** 64 bytes naming the file, unique across the whole test (most files have one size). */
function smallContent(label: string): string {
  return `${label} #${++serial} `.padEnd(64, ".").slice(0, 64);
}

async function writeFiles(root: string, files: Record<string, string | Uint8Array>) {
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
}

const pad = (index: number) => String(index).padStart(3, "0");

/** The tree before the change: 2,143 files, three of them above 16 MiB. */
function initialTree(): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = {};
  for (const side of ["alpha", "beta"]) {
    for (let i = 0; i < 150; i++) files[`swap/${side}/f${pad(i)}.txt`] = smallContent(side);
  }
  files["swap/alpha/big.bin"] = bigContent(1, 17 * MiB);
  files["swap/beta/big.bin"] = bigContent(2, 17 * MiB + 4096);
  for (const link of ["one", "two"]) {
    for (let i = 0; i < 120; i++) files[`chain/${link}/g${pad(i)}.txt`] = smallContent(link);
  }
  for (let d = 0; d < 16; d++) {
    for (let i = 0; i < 100; i++) files[`bulk/d${pad(d)}/h${pad(i)}.txt`] = smallContent(`d${d}`);
  }
  files["big/edited.bin"] = bigContent(3, 17 * MiB);
  return files;
}

/** The big change: every kind of rename, edits, new files, deletes. */
async function bigChange(root: string): Promise<void> {
  const mv = (from: string, to: string) => Deno.rename(`${root}/${from}`, `${root}/${to}`);
  // Two folders swap names: every file with a twin is a cycle through a temporary key,
  // the two big files included.
  await mv("swap/alpha", "swap/in-between");
  await mv("swap/beta", "swap/alpha");
  await mv("swap/in-between", "swap/beta");
  // A chain: two → three, then one → two.
  await mv("chain/two", "chain/three");
  await mv("chain/one", "chain/two");
  // Folder renames.
  await Deno.mkdir(`${root}/moved`);
  await mv("bulk/d000", "moved/d000-renamed");
  await mv("bulk/d001", "bulk/d001-renamed");
  await Deno.mkdir(`${root}/deep/er`, { recursive: true });
  await mv("bulk/d002", "deep/er/d002");
  // Single files renamed in place and across folders.
  for (let i = 0; i < 40; i++) {
    await mv(`bulk/d003/h${pad(i)}.txt`, `bulk/d003/renamed-${pad(i)}.txt`);
  }
  for (let i = 0; i < 20; i++) {
    await mv(`bulk/d004/h${pad(i)}.txt`, `bulk/d005/from-d004-${pad(i)}.txt`);
  }
  // Renamed onto the names of deleted files.
  for (let i = 0; i < 10; i++) {
    await Deno.remove(`${root}/bulk/d011/h${pad(i)}.txt`);
    await mv(`bulk/d011/h${pad(50 + i)}.txt`, `bulk/d011/h${pad(i)}.txt`);
  }
  // Edited in place, and renamed and edited.
  for (let i = 0; i < 60; i++) {
    await Deno.writeTextFile(`${root}/bulk/d006/h${pad(i)}.txt`, smallContent("edited") + "+", {
      append: true,
    });
  }
  for (let i = 0; i < 10; i++) {
    await mv(`bulk/d010/h${pad(i)}.txt`, `bulk/d010/edited-${pad(i)}.txt`);
    await Deno.writeTextFile(`${root}/bulk/d010/edited-${pad(i)}.txt`, "and edited", {
      append: true,
    });
  }
  await Deno.writeFile(`${root}/big/edited.bin`, bigContent(4, 18 * MiB));
  // Deleted: single files and a whole folder.
  for (let i = 0; i < 80; i++) await Deno.remove(`${root}/bulk/d007/h${pad(i)}.txt`);
  await Deno.remove(`${root}/bulk/d008`, { recursive: true });
  // New files, in a new folder and beside old ones.
  const added: Record<string, string> = {};
  for (let i = 0; i < 150; i++) added[`new/n${pad(i)}.txt`] = smallContent("new");
  for (let i = 0; i < 50; i++) added[`bulk/d009/new-${pad(i)}.txt`] = smallContent("new");
  await writeFiles(root, added);
}

/** When to kill a run. */
type KillPoint =
  | { afterMs: number }
  | { afterLines: number }
  | { whenMultipartUploadOpen: true };

// Small line counts first: the change makes about 1,500 lines of --verbose output, and
// each run starts again from what the previous one left.
const KILL_POINTS: KillPoint[] = [
  { afterMs: 60 },
  { afterMs: 500 },
  { afterLines: 1 },
  { afterLines: 2 },
  { afterLines: 3 },
  { afterLines: 5 },
  { afterMs: 800 },
  { afterLines: 8 },
  { afterLines: 12 },
  { afterLines: 18 },
  { afterMs: 1100 },
  { afterLines: 25 },
  { afterLines: 35 },
  { afterLines: 50 },
  { afterLines: 4 },
  { afterMs: 1400 },
  { afterLines: 70 },
  { afterLines: 6 },
  { afterLines: 100 },
  { afterLines: 10 },
  { afterMs: 1700 },
  { afterLines: 140 },
  { afterLines: 30 },
  { afterLines: 200 },
  // Last: this run completes what is left and is killed while its multipart upload of
  // the big edited file is open (its first part is held by the proxy).
  { whenMultipartUploadOpen: true },
];

function describe(point: KillPoint): string {
  if ("afterMs" in point) return `${point.afterMs} ms after the start (or 60 lines)`;
  if ("afterLines" in point) return `after ${point.afterLines} line(s) of --verbose output`;
  return "while a multipart upload is open";
}

Deno.test("sync killed with SIGKILL at 25 moments of a big change never loses an object", async (t) => {
  const moto = await MotoServer.start();
  const f = await Fixture.create(moto);
  // Every run goes through a proxy (the endpoint is part of the target's identity in the
  // state DB), so that one run can be held, and killed, while its multipart upload is open.
  const proxy = HttpProxy.start(moto.endpoint);
  const args = (extra: string[] = []) =>
    targetArgs(f, {
      endpoint: proxy.endpoint,
      extra: ["--delete", "--force-delete", "--verbose", ...extra],
    });
  try {
    // Content MD5s that were in S3 before the change.
    let before = new Set<string>();
    const contents = new BucketContents(moto, f.bucket);

    await t.step("a tree of 2,143 files with three above 16 MiB is synced", async () => {
      await writeFiles(f.src, initialTree());
      const first = await runCli(args(["--json"]), { home: `${f.base}/home` });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.json.uploads, 2143);
      assert.ok(requests(first.json, "CreateMultipartUpload") >= 3, "big files go in parts");
      before = new Set((await contents.md5ByKey()).values());
      assert.equal(before.size, 2143);
    });

    await bigChange(f.src);
    let tree = treeFiles(f.src);
    // Contents that were in S3 before the change and still exist locally: never lost.
    const mustKeep = new Map<string, string>();
    for (const [path, file] of tree) if (before.has(file.md5)) mustKeep.set(file.md5, path);

    await t.step(
      "after every kill, all content still held locally is still in S3 and the DB is sound",
      async () => {
        const outcomes: string[] = [];
        for (const [index, point] of KILL_POINTS.entries()) {
          let release = () => {};
          let partSeen = false;
          if ("whenMultipartUploadOpen" in point) {
            // Edited once more, so that this run has a multipart upload to make.
            await Deno.writeFile(`${f.src}/big/edited.bin`, bigContent(5, 18 * MiB));
            tree = treeFiles(f.src);
            const gate = new Promise<void>((resolve) => release = resolve);
            proxy.intercept = async (request) => {
              if (operationOf(request) !== "UploadPart") return undefined;
              partSeen = true;
              await gate;
              return s3Error(503, "SlowDown", "held by the test");
            };
          }
          const run = WatchedRun.spawn(args(), { home: `${f.base}/home` });
          if ("afterMs" in point) {
            // Capped at 60 lines, so that a fast machine does not finish the work early.
            await run.waitUntil(() => run.elapsedMs >= point.afterMs || run.lines >= 60, {
              timeoutMs: 60_000,
            });
          } else if ("afterLines" in point) {
            await run.waitForLines(point.afterLines, 60_000);
          } else {
            await run.waitUntil(() => partSeen, { timeoutMs: 90_000 });
          }
          const end = await run.kill();
          release();
          proxy.intercept = () => undefined;
          outcomes.push(
            `${index + 1}. ${describe(point)}: ${
              end.killed
                ? `killed after ${run.lines} lines`
                : `ended by itself, exit ${end.code}: ${
                  end.stderr.trim().split("\n").slice(-2).join(" | ").slice(0, 300)
                }`
            }`,
          );
          const context = `kill ${index + 1} (${describe(point)})\nstderr: ${end.stderr}`;
          if (!end.killed) {
            assert.ok(end.code === 0 || end.code === 1, `exit code ${end.code}, ${context}`);
          }

          const bucket = await contents.md5ByKey();
          const held = new Set(bucket.values());
          const lost = [...mustKeep].filter(([md5]) => !held.has(md5)).map(([, path]) => path);
          assert.deepEqual(lost, [], `content of these local files left S3 at ${context}`);

          const state = snapshotState(f.src);
          assert.equal(state.integrity, "ok", context);
          assert.deepEqual(
            untrustworthyRows(state, { tree, bucket, prefix: f.prefix }),
            [],
            `the DB trusts wrong content at ${context}`,
          );
        }
        console.log(`    ${outcomes.join("\n    ")}`);
        assert.ok(
          outcomes.filter((line) => line.includes("killed after")).length >= 20,
          "at least 20 runs were killed before they ended",
        );
      },
    );

    await t.step("a final complete run mirrors the tree byte for byte", async () => {
      const last = await runCli(args(["--json"]), { home: `${f.base}/home` });
      assert.equal(last.code, 0, `${last.stdout}\n${last.stderr}`);
      await f.assertMirrors();
      const again = await runCli(args(["--json"]), { home: `${f.base}/home` });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        Object.keys(again.json.requests),
        ["ListObjectsV2"],
        `a further run changes nothing: ${JSON.stringify(again.json)}`,
      );
    });

    await t.step("the state DB passes PRAGMA integrity_check", () => {
      assert.equal(snapshotState(f.src).integrity, "ok");
    });

    await t.step("no multipart upload is left open", async () => {
      assert.deepEqual(await openUploads(moto, f.bucket), []);
    });
  } finally {
    await proxy.stop();
    await f.cleanup();
    await moto.stop();
  }
});

forEachServer(
  "a run killed during a multipart copy leaves no multipart upload open once the next run ends",
  async (_t, server) => {
    const f = await Fixture.create(server);
    const proxy = HttpProxy.start(server.endpoint);
    // Objects above 5 GiB are copied in parts; these options make a 12 MiB file one.
    const args = (extra: string[] = []) =>
      targetArgs(f, {
        endpoint: proxy.endpoint,
        extra: [
          "--delete",
          "--copy-multipart-threshold",
          "1MiB",
          "--copy-part-size",
          "5MiB",
          ...extra,
        ],
      });
    try {
      await writeFiles(f.src, { "video/holiday.mp4": bigContent(21, 12 * MiB), "a.txt": "a" });
      const first = await runCli(args(["--json"]), { home: `${f.base}/home` });
      assert.equal(first.code, 0, first.stderr);
      await Deno.rename(`${f.src}/video`, `${f.src}/videos 2024`);

      let release = () => {};
      const gate = new Promise<void>((resolve) => release = resolve);
      let partSeen = false;
      proxy.intercept = async (request) => {
        if (operationOf(request) !== "UploadPartCopy") return undefined;
        partSeen = true;
        await gate;
        return s3Error(503, "SlowDown", "held by the test");
      };
      const run = WatchedRun.spawn(args(), { home: `${f.base}/home` });
      assert.ok(await run.waitUntil(() => partSeen, { timeoutMs: 60_000 }), "a part copy started");
      const end = await run.kill();
      release();
      proxy.intercept = () => undefined;
      assert.ok(end.killed, "killed during the multipart copy");
      assert.ok(
        (await server.list(f.bucket)).some((object) =>
          object.key === `${f.prefix}video/holiday.mp4`
        ),
        "the source is still there",
      );

      const next = await runCli(args(["--json"]), { home: `${f.base}/home` });
      assert.equal(next.code, 0, next.stderr);
      assert.equal(next.json.moves, 1, JSON.stringify(next.json));
      await f.assertMirrors();
      assert.deepEqual(
        await openUploads(server, f.bucket),
        [],
        "the multipart copy of the killed run is still open (and billed) in S3",
      );
    } finally {
      await proxy.stop();
      await f.cleanup();
    }
  },
);

Deno.test("swapping the names of two files uploaded in parts completes in one run", async () => {
  const moto = await MotoServer.start();
  const f = await Fixture.create(moto);
  try {
    await writeFiles(f.src, {
      "video/a.mp4": bigContent(11, 17 * MiB),
      "video/b.mp4": bigContent(12, 17 * MiB + 1),
    });
    await f.runOk("sync");
    const etags = (await moto.list(f.bucket)).map((object) => object.etag);
    assert.ok(etags.every((etag) => /-\d+"$/.test(etag ?? "")), "both were uploaded in parts");
    await Deno.rename(`${f.src}/video/a.mp4`, `${f.src}/video/tmp`);
    await Deno.rename(`${f.src}/video/b.mp4`, `${f.src}/video/a.mp4`);
    await Deno.rename(`${f.src}/video/tmp`, `${f.src}/video/b.mp4`);
    const swap = await f.run("sync", ["--delete"]);
    assert.equal(swap.code, 0, swap.stderr);
    assert.equal(swap.json.moves, 2);
    assert.equal(requests(swap.json, "PutObject") + requests(swap.json, "UploadPart"), 0);
    await f.assertMirrors();
  } finally {
    await f.cleanup();
    await moto.stop();
  }
});
