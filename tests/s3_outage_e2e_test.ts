/**
 * Server faults against a real S3 server (moto) behind loopback proxies: S3 going away in
 * the middle of a run (connections reset, new ones refused) during the moves and during a
 * multipart upload, copies refused, and deletes failing. Each time the run must stop with
 * a clear error and exit code 1, the state DB must be sound and truthful, nothing still
 * held locally may leave S3, and the next run must converge.
 */
import assert from "node:assert/strict";
import {
  BucketContents,
  openUploads,
  snapshotState,
  type TreeFile,
  treeFiles,
  untrustworthyRows,
} from "./helpers/bucket_audit.ts";
import { Fixture, requests } from "./helpers/fixture.ts";
import { HttpProxy, operationOf, s3Error, TcpProxy } from "./helpers/loopback_s3_proxy.ts";
import { type CliResult, MotoServer, runCli } from "./helpers/moto.ts";
import { targetArgs, type WatchedEnd, WatchedRun } from "./helpers/killable_cli.ts";

const MiB = 1024 * 1024;

function show(run: CliResult | WatchedEnd): string {
  return `exit code ${run.code}\nstdout: ${run.stdout.slice(-3000)}\nstderr: ${run.stderr}`;
}

async function writeFiles(root: string, files: Record<string, string | Uint8Array>) {
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
}

function patterned(seed: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 13 + seed) & 255;
  bytes.set(new TextEncoder().encode(`seed ${seed}\n`));
  return bytes;
}

/**
 * What must hold whatever happened: every content that was in S3 before and is still held
 * locally is in S3 under some key; the DB is sound and never trusts wrong content.
 */
async function assertNothingLost(
  f: Fixture,
  context: { contents: BucketContents; before: Set<string>; tree: Map<string, TreeFile> },
): Promise<void> {
  const bucket = await context.contents.md5ByKey();
  const held = new Set(bucket.values());
  const lost = [...context.tree].filter(([, file]) =>
    context.before.has(file.md5) && !held.has(file.md5)
  ).map(([path]) => path);
  assert.deepEqual(lost, [], "content of these local files is no longer anywhere in S3");
  const state = snapshotState(f.src);
  assert.equal(state.integrity, "ok");
  assert.deepEqual(
    untrustworthyRows(state, { tree: context.tree, bucket, prefix: f.prefix }),
    [],
    "the DB trusts wrong content",
  );
}

Deno.test("S3 faults in the middle of a sync", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step(
      "S3 going away during the moves and during a multipart upload: exit 1, a clear error, then convergence",
      async () => {
        const f = await Fixture.create(moto);
        // CLI → TCP proxy (cut and restored) → HTTP proxy (holds a part upload) → moto.
        const http = HttpProxy.start(moto.endpoint);
        const tcp = TcpProxy.start(http.endpoint);
        const home = `${f.base}/home`;
        const args = (extra: string[]) =>
          targetArgs(f, { endpoint: tcp.endpoint, extra: ["--delete", ...extra] });
        try {
          const files: Record<string, string | Uint8Array> = {};
          for (let i = 0; i < 60; i++) {
            files[`swap/alpha/p${i}.txt`] = `alpha ${i} `.repeat(20);
            files[`swap/beta/p${i}.txt`] = `beta ${i} `.repeat(21);
          }
          for (let i = 0; i < 200; i++) files[`albums/2023/img${i}.jpg`] = `image ${i} `.repeat(50);
          await writeFiles(f.src, files);
          const first = await runCli(args(["--json"]), { home });
          assert.equal(first.code, 0, show(first));
          const contents = new BucketContents(moto, f.bucket);
          const before = new Set((await contents.md5ByKey()).values());

          // The change: two folders swap names, a folder is renamed, 400 files are new and
          // one of them goes in parts.
          await Deno.rename(`${f.src}/swap/alpha`, `${f.src}/swap/gamma`);
          await Deno.rename(`${f.src}/swap/beta`, `${f.src}/swap/alpha`);
          await Deno.rename(`${f.src}/swap/gamma`, `${f.src}/swap/beta`);
          await Deno.rename(`${f.src}/albums/2023`, `${f.src}/albums/2023 Italy`);
          const added: Record<string, string | Uint8Array> = {};
          for (let i = 0; i < 400; i++) added[`new/n${i}.txt`] = `new ${i} `.repeat(100);
          added["new/video.mp4"] = patterned(7, 20 * MiB);
          await writeFiles(f.src, added);
          const tree = treeFiles(f.src);

          // 1. Cut during the moves.
          const duringMoves = WatchedRun.spawn(args(["--verbose"]), { home });
          assert.ok(await duringMoves.waitForLines(40, 60_000), "the run printed 40 moves");
          tcp.cut();
          const movesCut = await duringMoves.waitUntil(() => false, { timeoutMs: 120_000 })
            .then(() => duringMoves.kill());
          assert.equal(movesCut.killed, false, "the run ended by itself within 2 minutes");
          assert.equal(movesCut.code, 1, show(movesCut));
          assert.match(movesCut.stderr, /S3 became unreachable|Cannot reach S3/, show(movesCut));
          await assertNothingLost(f, { contents, before, tree });
          tcp.restore();

          // 2. Cut while the multipart upload is open: its first part is held meanwhile.
          let release = () => {};
          const gate = new Promise<void>((resolve) => release = resolve);
          let partSeen = false;
          http.intercept = async (request) => {
            if (operationOf(request) !== "UploadPart") return undefined;
            partSeen = true;
            await gate;
            return s3Error(500, "InternalError", "held by the test");
          };
          const duringUpload = WatchedRun.spawn(args(["--verbose"]), { home });
          assert.ok(
            await duringUpload.waitUntil(() => partSeen, { timeoutMs: 90_000 }),
            "the run started the multipart upload",
          );
          tcp.cut();
          release();
          http.intercept = () => undefined;
          const uploadCut = await duringUpload.waitUntil(() => false, { timeoutMs: 120_000 })
            .then(() => duringUpload.kill());
          assert.equal(uploadCut.killed, false, "the run ended by itself within 2 minutes");
          assert.equal(uploadCut.code, 1, show(uploadCut));
          assert.match(uploadCut.stderr, /S3 became unreachable|Cannot reach S3/, show(uploadCut));
          assert.doesNotMatch(uploadCut.stderr, /Uncaught|at .*\.ts:\d+/, "no stack trace");
          await assertNothingLost(f, { contents, before, tree });
          tcp.restore();

          // 3. S3 is back: the next run converges, and a further one has nothing to do.
          const next = await runCli(args(["--json"]), { home });
          assert.equal(next.code, 0, show(next));
          await f.assertMirrors();
          const again = await runCli(args(["--json"]), { home });
          assert.equal(again.code, 0, show(again));
          assert.deepEqual(Object.keys(again.json.requests), ["ListObjectsV2"], show(again));
          assert.equal(snapshotState(f.src).integrity, "ok");
          assert.deepEqual(
            await openUploads(moto, f.bucket),
            [],
            "the multipart upload cut by the outage is still open (and billed) in S3",
          );
        } finally {
          tcp.stop();
          await http.stop();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "S3 falling silent for 5 s in the middle of a run: the run waits and completes",
      async () => {
        const f = await Fixture.create(moto);
        const tcp = TcpProxy.start(moto.endpoint);
        const home = `${f.base}/home`;
        const args = (extra: string[]) =>
          targetArgs(f, { endpoint: tcp.endpoint, extra: ["--delete", ...extra] });
        try {
          const files: Record<string, string> = {};
          for (let i = 0; i < 100; i++) files[`old/o${i}.txt`] = `old ${i} `.repeat(30);
          await writeFiles(f.src, files);
          assert.equal((await runCli(args(["--json"]), { home })).code, 0);
          await Deno.rename(`${f.src}/old`, `${f.src}/renamed`);
          const added: Record<string, string> = {};
          for (let i = 0; i < 300; i++) added[`new/n${i}.txt`] = `new ${i} `.repeat(30);
          await writeFiles(f.src, added);
          const run = WatchedRun.spawn(args(["--verbose"]), { home });
          assert.ok(await run.waitForLines(50, 60_000), "the run printed 50 lines");
          tcp.pause();
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          tcp.resume();
          await run.waitUntil(() => false, { timeoutMs: 120_000 });
          const end = await run.kill();
          assert.equal(end.killed, false, "the run ended by itself within 2 minutes");
          assert.equal(end.code, 0, show(end));
          await f.assertMirrors();
          assert.equal(snapshotState(f.src).integrity, "ok");
        } finally {
          tcp.stop();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "a move whose copy S3 refuses keeps its source: an upload to that key waits",
      async () => {
        const f = await Fixture.create(moto);
        const http = HttpProxy.start(moto.endpoint);
        const home = `${f.base}/home`;
        const args = () => targetArgs(f, { endpoint: http.endpoint, extra: ["--json"] });
        try {
          await writeFiles(f.src, {
            "report.pdf": "the only copy of the report, version 1",
            "other.txt": "other",
          });
          assert.equal((await runCli(args(), { home })).code, 0);
          const contents = new BucketContents(moto, f.bucket);
          const before = new Set((await contents.md5ByKey()).values());
          // The report is renamed, and a new file takes its old name.
          await Deno.rename(`${f.src}/report.pdf`, `${f.src}/report-2023.pdf`);
          await Deno.writeTextFile(`${f.src}/report.pdf`, "a new report, a longer version 2");
          const tree = treeFiles(f.src);

          http.intercept = (request) =>
            operationOf(request) === "CopyObject"
              ? s3Error(403, "AccessDenied", "Access Denied")
              : undefined;
          const refused = await runCli(args(), { home });
          http.intercept = () => undefined;
          assert.equal(refused.code, 1, show(refused));
          assert.match(refused.stderr, /Cannot move "report\.pdf" to "report-2023\.pdf"/);
          await assertNothingLost(f, { contents, before, tree });

          const next = await runCli(args(), { home });
          assert.equal(next.code, 0, show(next));
          await f.assertMirrors();
        } finally {
          await http.stop();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "DeleteObjects failing with 500 keeps every source; the next run completes the moves",
      async () => {
        const f = await Fixture.create(moto);
        const http = HttpProxy.start(moto.endpoint);
        const home = `${f.base}/home`;
        const args = () =>
          targetArgs(f, { endpoint: http.endpoint, extra: ["--json", "--delete"] });
        try {
          const files: Record<string, string> = {};
          for (let i = 0; i < 30; i++) {
            files[`a/${i}.txt`] = `a ${i}`;
            files[`b/${i}.txt`] = `b ${i} b`;
            files[`c/${i}.txt`] = `c ${i} c c`;
          }
          await writeFiles(f.src, files);
          assert.equal((await runCli(args(), { home })).code, 0);
          const contents = new BucketContents(moto, f.bucket);
          const before = new Set((await contents.md5ByKey()).values());
          // A swap, a chain and a delete.
          await Deno.rename(`${f.src}/a`, `${f.src}/x`);
          await Deno.rename(`${f.src}/b`, `${f.src}/a`);
          await Deno.rename(`${f.src}/x`, `${f.src}/b`);
          await Deno.rename(`${f.src}/c`, `${f.src}/d`);
          await Deno.remove(`${f.src}/b/0.txt`);
          const tree = treeFiles(f.src);

          http.intercept = (request) =>
            operationOf(request) === "DeleteObjects"
              ? s3Error(500, "InternalError", "We encountered an internal error.")
              : undefined;
          const failing = await runCli(args(), { home });
          http.intercept = () => undefined;
          assert.equal(failing.code, 1, show(failing));
          assert.ok(failing.json.errors > 0, show(failing));
          await assertNothingLost(f, { contents, before, tree });

          const next = await runCli(args(), { home });
          assert.equal(next.code, 0, show(next));
          assert.equal(requests(next.json, "PutObject"), 0, "nothing is uploaded again");
          await f.assertMirrors();
        } finally {
          await http.stop();
          await f.cleanup();
        }
      },
    );
  } finally {
    await moto.stop();
  }
});
