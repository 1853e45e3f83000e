/**
 * Server faults against a real S3 server (moto) behind a loopback proxy that the tests
 * switch off and on: S3 unreachable in the middle of uploads, of server-side moves and
 * of a multipart upload; throttling on every kind of request; a move S3 refuses. After
 * each fault: a clear error, exit code 1, a sound state DB, and a next run that
 * converges without losing anything.
 */
import assert from "node:assert/strict";
import {
  assertExactMirror,
  bucketHashes,
  integrityCheck,
  openMultipartUploads,
  sha256,
  treeHashes,
} from "./helpers/checks.ts";
import { FaultProxy, isCopy, isUpload, isUploadPart } from "./helpers/fault_proxy.ts";
import { Fixture, requests } from "./helpers/fixture.ts";
import { s3Error, startHttpProxy } from "./helpers/http_proxy.ts";
import { type CliResult, MotoServer, writeTree } from "./helpers/moto.ts";

function show(run: CliResult): string {
  return `exit code ${run.code}\nstdout: ${run.stdout.slice(0, 4000)}\nstderr: ${
    run.stderr.slice(0, 4000)
  }`;
}

/** Runs a command of the fixture against another endpoint (a proxy). */
function runVia(f: Fixture, endpoint: string, command: string, extra: string[] = []) {
  return f.run(command, ["--endpoint-url", endpoint, ...extra]);
}

function files(count: number, folder: string, size = 1024): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = `${folder}/${String(i).padStart(4, "0")}.dat`;
    result[name] = `${name} `.padEnd(size, String.fromCharCode(97 + (i % 26)));
  }
  return result;
}

/** Every content of the local tree is in the bucket under some key. */
async function assertNothingLost(f: Fixture, context: string): Promise<void> {
  const remote = await bucketHashes(f.server, f.bucket);
  const missing = [...treeHashes(f.src)].filter(([hash]) => !remote.has(hash))
    .map(([, paths]) => paths[0]);
  assert.deepEqual(missing, [], `contents no longer in S3 after ${context}`);
}

const UNREACHABLE = /S3 became unreachable|Cannot reach S3/;

Deno.test("server faults against a real S3 server", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step(
      "S3 refusing connections in the middle of many uploads stops the run with one clear error, and the next run converges",
      async () => {
        const f = await Fixture.create(moto);
        const proxy = FaultProxy.start(moto.endpoint);
        try {
          const total = 400;
          await f.write(files(total, "many"));
          proxy.failAfter(isUpload, 120, "refuse");
          const run = await runVia(f, proxy.endpoint, "sync");
          assert.equal(run.code, 1, show(run));
          assert.match(run.stderr, UNREACHABLE, show(run));
          const errorLines = run.stderr.split("\n").filter((line) => line.startsWith("error"));
          assert.ok(errorLines.length <= 15, `the run stopped soon: ${errorLines.length} errors`);
          assert.equal(integrityCheck(f.src), "ok");
          const uploaded = (await moto.list(f.bucket)).length;
          assert.ok(uploaded >= 100 && uploaded < total, `${uploaded} objects before the fault`);

          proxy.setMode("forward");
          const rerun = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(rerun.code, 0, show(rerun));
          assert.equal(rerun.json.uploads, total - uploaded, "work done before the fault is kept");
          assert.equal(rerun.json.deletes, 0);
          await assertExactMirror(moto, f);
          assert.equal(integrityCheck(f.src), "ok");
        } finally {
          await proxy.close();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "connections reset in the middle of a folder move stop the run, lose nothing, and the next run finishes the moves without uploads",
      async () => {
        const f = await Fixture.create(moto);
        const proxy = FaultProxy.start(moto.endpoint);
        try {
          await f.write({ ...files(300, "album"), ...files(20, "other") });
          const first = await runVia(f, proxy.endpoint, "sync");
          assert.equal(first.code, 0, show(first));
          await Deno.rename(`${f.src}/album`, `${f.src}/album 2024`);
          proxy.failAfter(isCopy, 60, "reset");
          const run = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(run.code, 1, show(run));
          assert.match(run.stderr, UNREACHABLE, show(run));
          assert.equal(integrityCheck(f.src), "ok");
          await assertNothingLost(f, "a fault during moves");

          proxy.setMode("forward");
          const rerun = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(rerun.code, 0, show(rerun));
          assert.equal(requests(rerun.json, "PutObject"), 0, show(rerun));
          assert.ok(rerun.json.moves > 0 && rerun.json.moves <= 300, show(rerun));
          await assertExactMirror(moto, f);
        } finally {
          await proxy.close();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "S3 unreachable from the start: 'Cannot reach S3', exit code 1, nothing changed",
      async () => {
        const f = await Fixture.create(moto);
        const proxy = FaultProxy.start(moto.endpoint);
        try {
          await f.write(files(5, "a"));
          proxy.setMode("refuse");
          const run = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(run.code, 1, show(run));
          assert.match(run.stderr, /Cannot reach S3/, show(run));
          assert.deepEqual(await moto.list(f.bucket), []);
          proxy.setMode("reset");
          const reset = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(reset.code, 1, show(reset));
          assert.match(reset.stderr, /Cannot reach S3/, show(reset));
          proxy.setMode("forward");
          const rerun = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(rerun.code, 0, show(rerun));
          await assertExactMirror(moto, f);
        } finally {
          await proxy.close();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "S3 going away during a multipart upload leaves no multipart upload open once the next run is done",
      async () => {
        const f = await Fixture.create(moto);
        const proxy = FaultProxy.start(moto.endpoint);
        try {
          await f.write(files(3, "small"));
          const big = new Uint8Array(40 * 1024 * 1024);
          for (let i = 0; i < big.length; i += 512) big[i] = (i / 512) % 251;
          await Deno.writeFile(`${f.src}/video.mov`, big);
          proxy.failAfter(isUploadPart, 1, "refuse");
          const run = await runVia(f, proxy.endpoint, "sync");
          assert.equal(run.code, 1, show(run));
          assert.equal(integrityCheck(f.src), "ok");

          proxy.setMode("forward");
          const rerun = await runVia(f, proxy.endpoint, "sync");
          assert.equal(rerun.code, 0, show(rerun));
          await assertExactMirror(moto, f);
          assert.deepEqual(
            await openMultipartUploads(moto, f.bucket),
            [],
            "no multipart upload is left open (they are billed until aborted)",
          );
        } finally {
          await proxy.close();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "503 SlowDown on every kind of request is retried and the runs succeed",
      async () => {
        const f = await Fixture.create(moto);
        // The first request of each operation on each key is throttled, twice for the
        // operations a run makes only a few of (listing, multipart steps, batch deletes).
        const seen = new Map<string, number>();
        const throttled: Record<string, number> = {};
        const operation = (request: Request, url: URL) => {
          const params = url.searchParams;
          if (request.method === "GET" && params.has("list-type")) return "ListObjectsV2";
          if (request.method === "POST" && params.has("uploads")) return "CreateMultipartUpload";
          if (request.method === "POST" && params.has("uploadId")) {
            return "CompleteMultipartUpload";
          }
          if (request.method === "POST" && params.has("delete")) return "DeleteObjects";
          if (request.method === "PUT" && params.has("partNumber")) return "UploadPart";
          if (request.method === "PUT" && request.headers.has("x-amz-copy-source")) {
            return "CopyObject";
          }
          if (request.method === "PUT") return "PutObject";
          if (request.method === "HEAD") return "HeadObject";
          return `${request.method} ${[...params.keys()].join(",")}`;
        };
        const few = new Set([
          "ListObjectsV2",
          "CreateMultipartUpload",
          "CompleteMultipartUpload",
          "DeleteObjects",
          "UploadPart",
        ]);
        const proxy = startHttpProxy(moto.endpoint, (request, url) => {
          const op = operation(request, url);
          const id = `${op} ${url.pathname}`;
          const count = seen.get(id) ?? 0;
          seen.set(id, count + 1);
          if (count >= (few.has(op) ? 2 : 1)) return undefined;
          throttled[op] = (throttled[op] ?? 0) + 1;
          return s3Error(503, "SlowDown", "Please reduce your request rate.");
        });
        try {
          await f.write({ ...files(20, "photos"), "notes.txt": "notes", "gone.txt": "gone" });
          const big = new Uint8Array(17 * 1024 * 1024).fill(3);
          await Deno.writeFile(`${f.src}/big.bin`, big);
          const first = await runVia(f, proxy.endpoint, "sync");
          assert.equal(first.code, 0, show(first));
          await assertExactMirror(moto, f);

          await Deno.rename(`${f.src}/photos`, `${f.src}/pictures`);
          await Deno.writeTextFile(`${f.src}/notes.txt`, "notes, edited");
          await Deno.remove(`${f.src}/gone.txt`);
          const second = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(second.code, 0, show(second));
          assert.equal(second.json.moves, 20, show(second));
          assert.equal(second.json.deletes, 1, show(second));
          await assertExactMirror(moto, f);
          assert.equal(await openMultipartUploads(moto, f.bucket).then((open) => open.length), 0);
          for (
            const op of [
              "ListObjectsV2",
              "PutObject",
              "CreateMultipartUpload",
              "UploadPart",
              "CompleteMultipartUpload",
              // No HeadObject: the state knows what each move's copy needs.
              "CopyObject",
              "DeleteObjects",
            ]
          ) {
            assert.ok(
              (throttled[op] ?? 0) > 0,
              `${op} was throttled: ${JSON.stringify(throttled)}`,
            );
          }
        } finally {
          await proxy.shutdown();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "a move that S3 refuses does not let an upload to its source key overwrite the only copy",
      async () => {
        const f = await Fixture.create(moto);
        let refuseCopies = false;
        const proxy = startHttpProxy(moto.endpoint, (request) => {
          if (refuseCopies && request.headers.has("x-amz-copy-source")) {
            return s3Error(500, "InternalError", "We encountered an internal error.");
          }
          return undefined;
        });
        try {
          await writeTree(f.src, { "report.pdf": "the original report", "x.txt": "x" });
          const first = await runVia(f, proxy.endpoint, "sync");
          assert.equal(first.code, 0, show(first));
          // The report is renamed and a new file takes its old name.
          await Deno.rename(`${f.src}/report.pdf`, `${f.src}/report-2023.pdf`);
          await Deno.writeTextFile(`${f.src}/report.pdf`, "a new report");
          refuseCopies = true;
          const run = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(run.code, 1, show(run));
          const original = sha256(new TextEncoder().encode("the original report"));
          const remote = await bucketHashes(moto, f.bucket);
          assert.ok(
            remote.has(original),
            `the original report is in no object any more: ${
              JSON.stringify([...remote.values()])
            }; failures: ${JSON.stringify(run.json?.failures)}`,
          );
          refuseCopies = false;
          const rerun = await runVia(f, proxy.endpoint, "sync", ["--delete"]);
          assert.equal(rerun.code, 0, show(rerun));
          await assertExactMirror(moto, f);
        } finally {
          await proxy.shutdown();
          await f.cleanup();
        }
      },
    );
  } finally {
    await moto.stop();
  }
});
