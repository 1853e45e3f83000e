/**
 * Archived objects end to end. Against moto (S3's semantics): a rename of files in
 * DEEP_ARCHIVE or GLACIER is deferred (no copy, no upload, no delete, exit 3), `restore`
 * starts the restores, `restore-status` follows them, and the next sync completes the
 * moves with the storage class kept and the log cleared. Against Ceph RGW, which keeps
 * storage classes as labels and serves such objects as they are (it has no RestoreObject),
 * the same renames are completed at once by copying, the class kept: waiting there would
 * wait forever.
 */
import assert from "node:assert/strict";
import { Fixture, requests } from "./helpers/fixture.ts";
import { type CliResult, runCli } from "./helpers/moto.ts";
import { forEachServer, type S3TestServer } from "./helpers/servers.ts";

function cli(f: Fixture, args: string[]): Promise<CliResult> {
  return runCli([...args, "--log-dir", `${f.base}/logs`, "--json"], { home: `${f.base}/home` });
}

function keys(objects: Array<{ key: string }>): string[] {
  return objects.map((object) => object.key).sort();
}

/**
 * Ceph RGW (moto: S3): the renames of the per-class step are completed at once, by copying
 * with the class kept, and nothing waits for a restore.
 */
async function assertCompletedAtOnce(
  server: S3TestServer,
  f: Fixture,
  storageClass: string,
): Promise<void> {
  const moved = await f.runOk("sync", ["--delete"]);
  assert.equal(moved.json.moves, 3);
  assert.equal(moved.json.deferred, 0);
  assert.equal(requests(moved.json, "CopyObject"), 3, "the moves are copies");
  assert.equal(requests(moved.json, "PutObject"), 0, "the new paths are not uploaded");
  assert.equal(moved.json.deletes, 0);
  // RGW serves archived objects, so the bucket can be compared byte for byte.
  await f.assertMirrors();
  for (const object of await server.list(f.bucket)) {
    if (object.key.endsWith(".jpg")) assert.equal(object.storageClass, storageClass, object.key);
  }
  await assert.rejects(
    Deno.stat(`${f.base}/archive_restore_needed.log`),
    Deno.errors.NotFound,
    "no move waits for a restore",
  );
  const again = await f.runOk("sync", ["--delete"]);
  assert.deepEqual(again.json.requests, { ListObjectsV2: 1 }, "a further run only lists");
  const status = await cli(f, ["restore-status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.notRequested, 0, JSON.stringify(status.json));
}

/** moto (S3): the renames are deferred, restored, then completed with the class kept. */
async function assertDeferredThenRestored(
  server: S3TestServer,
  f: Fixture,
  storageClass: string,
): Promise<void> {
  const before = keys(await server.list(f.bucket));

  const deferred = await f.runOk("sync", ["--delete"], 3);
  assert.equal(deferred.json.deferred, 3);
  assert.equal(deferred.json.moves, 0);
  assert.equal(requests(deferred.json, "CopyObject"), 0, "no copy is attempted");
  assert.equal(requests(deferred.json, "PutObject"), 0, "the new paths are not uploaded");
  assert.equal(requests(deferred.json, "DeleteObjects"), 0, "the old keys are kept");
  assert.deepEqual(keys(await server.list(f.bucket)), before);
  const log = await Deno.readTextFile(`${f.base}/archive_restore_needed.log`);
  assert.match(
    log,
    new RegExp(
      `${storageClass}\\ts3://${f.bucket}/backup/a\\.jpg\\ts3://${f.bucket}/backup/b\\.jpg`,
    ),
  );
  assert.equal(log.split("\n").filter((line) => line && !line.startsWith("#")).length, 3);

  const again = await f.runOk("sync", ["--delete"], 3);
  assert.equal(again.json.deferred, 3);
  assert.equal(again.json.stateWrites, 0, "a deferred move is written once");

  const notYet = await cli(f, ["restore-status"]);
  assert.equal(notYet.code, 0, notYet.stderr);
  assert.equal(notYet.json.notRequested, 3);

  if (storageClass === "DEEP_ARCHIVE") {
    const expedited = await cli(f, ["restore", "--tier", "Expedited"]);
    assert.equal(expedited.code, 2);
    assert.match(
      expedited.stderr,
      /Expedited.*DEEP_ARCHIVE.*--tier Standard.*--tier Bulk/,
    );
  }
  const restore = await cli(f, ["restore", "--days", "2", "--tier", "Bulk"]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(restore.json.started, 3);

  const status = await cli(f, ["restore-status"]);
  assert.equal(status.code, 0);
  assert.equal(status.json.restored, 3, JSON.stringify(status.json));
  assert.ok(
    status.json.objects.every((line: { restoredUntil?: string }) => line.restoredUntil),
  );

  const done = await f.runOk("sync", ["--delete"]);
  assert.equal(done.json.moves, 3);
  assert.equal(done.json.deferred, 0);
  assert.equal(requests(done.json, "CopyObject"), 3);
  assert.equal(requests(done.json, "PutObject"), 0);
  // S3 will not let anyone read an archived object: compare by ETag.
  await f.assertMirrorsByEtag();
  for (const object of await server.list(f.bucket)) {
    if (object.key.endsWith(".jpg")) {
      assert.equal(object.storageClass, storageClass, object.key);
    }
  }
  await assert.rejects(
    Deno.stat(`${f.base}/archive_restore_needed.log`),
    Deno.errors.NotFound,
    "the log is removed when nothing is pending",
  );
}

forEachServer(
  "archived objects: deferred moves, restore, restore-status, completion",
  async (t, server) => {
    // Whether the server serves GLACIER and DEEP_ARCHIVE objects without a restore: S3
    // (moto) does not, Ceph RGW does (its classes are labels; RestoreObject answers 501).
    const servesArchived = server.kind === "rgw";

    for (const storageClass of ["DEEP_ARCHIVE", "GLACIER"]) {
      await t.step(
        servesArchived
          ? `a rename of ${storageClass} objects is completed at once, the class kept`
          : `a rename of ${storageClass} objects is deferred, restored, then completed`,
        async () => {
          const f = await Fixture.create(server);
          try {
            await f.write({
              "a.jpg": "archived photo a",
              "trip/1.jpg": "one",
              "trip/2.jpg": "two two",
              "notes.txt": "n",
            });
            await f.runOk("sync", ["--storage-class", storageClass]);
            await Deno.rename(`${f.src}/a.jpg`, `${f.src}/b.jpg`);
            await Deno.rename(`${f.src}/trip`, `${f.src}/italy`);
            if (servesArchived) await assertCompletedAtOnce(server, f, storageClass);
            else await assertDeferredThenRestored(server, f, storageClass);
          } finally {
            await f.cleanup();
          }
        },
      );
    }

    await t.step(
      servesArchived
        ? "archived files renamed are moved at once, and a new file at an old path is uploaded"
        : "a deferred file that is edited is uploaded, and a new file at the old path waits",
      async () => {
        const f = await Fixture.create(server);
        try {
          await f.write({ "a.jpg": "archived a", "c.jpg": "archived c", "x.txt": "x" });
          await f.runOk("sync", ["--storage-class", "DEEP_ARCHIVE"]);
          await Deno.rename(`${f.src}/a.jpg`, `${f.src}/b.jpg`);
          await Deno.rename(`${f.src}/c.jpg`, `${f.src}/d.jpg`);
          await f.write({ "c.jpg": "a new file where c was" });
          if (servesArchived) {
            const first = await f.runOk("moves");
            assert.equal(first.json.moves, 2);
            assert.equal(first.json.deferred, 0);
            const synced = await f.runOk("sync", ["--delete"]);
            assert.equal(synced.json.deferred, 0);
            assert.equal(synced.json.waiting, 0, "the archived c.jpg has moved away already");
            assert.equal(synced.json.uploads, 1);
            await f.assertMirrors();
            const classes = new Map(
              (await server.list(f.bucket)).map((object) => [object.key, object.storageClass]),
            );
            assert.equal(classes.get(`${f.prefix}b.jpg`), "DEEP_ARCHIVE");
            assert.equal(classes.get(`${f.prefix}d.jpg`), "DEEP_ARCHIVE");

            await Deno.writeTextFile(`${f.src}/b.jpg`, "edited after the rename");
            const edited = await f.runOk("sync", ["--delete"]);
            assert.equal(edited.json.uploads, 1);
            assert.equal(edited.json.deletes, 0);
            assert.equal(edited.json.deferred, 0);
            await f.assertMirrors();
            return;
          }
          const first = await f.runOk("moves", [], 3);
          assert.equal(first.json.deferred, 2);
          const held = await f.runOk("sync", ["--delete"], 3);
          assert.equal(held.json.deferred, 2);
          assert.equal(held.json.waiting, 1, "the new c.jpg waits: it would overwrite the archive");
          assert.equal(requests(held.json, "PutObject"), 0);
          const c = await server.head(f.bucket, `${f.prefix}c.jpg`);
          assert.equal(c.ContentLength, "archived c".length, "the archived c.jpg is intact");

          // Editing the renamed file ends its deferral: it is uploaded, the archive deleted.
          await Deno.writeTextFile(`${f.src}/b.jpg`, "edited after the rename");
          const edited = await f.runOk("sync", ["--delete"], 3);
          assert.equal(edited.json.deferred, 1);
          assert.equal(edited.json.uploads, 1);
          assert.equal(edited.json.deletes, 1);
          const log = await Deno.readTextFile(`${f.base}/archive_restore_needed.log`);
          assert.doesNotMatch(log, /b\.jpg/);
          assert.match(log, /d\.jpg/);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      servesArchived
        ? "with every move completed, restore and restore-status of every target find nothing to do"
        : "restore and restore-status find the deferred moves of every synced target, whatever --log-dir",
      async () => {
        const f = await Fixture.create(server);
        const other = await Fixture.create(server);
        try {
          await f.write({ "a.jpg": "archived a", "x.txt": "x" });
          await other.write({ "b.jpg": "archived b" });
          const home = `${f.base}/home`;
          const syncIn = (fixture: Fixture, logDir: string, extra: string[], code: number) =>
            runCli([
              "sync",
              fixture.src,
              fixture.url,
              "--endpoint-url",
              server.endpoint,
              "--log-dir",
              logDir,
              "--json",
              ...extra,
            ], { home }).then((result) => {
              assert.equal(result.code, code, result.stderr);
              return result;
            });
          await syncIn(f, `${f.base}/logs-a`, ["--storage-class", "DEEP_ARCHIVE"], 0);
          await syncIn(other, `${other.base}/logs-b`, ["--storage-class", "GLACIER"], 0);
          await Deno.rename(`${f.src}/a.jpg`, `${f.src}/a2.jpg`);
          await Deno.rename(`${other.src}/b.jpg`, `${other.src}/b2.jpg`);
          // A cron line: --quiet, no --json.
          const quiet = await runCli([
            "sync",
            f.src,
            f.url,
            "--endpoint-url",
            server.endpoint,
            "--log-dir",
            `${f.base}/logs-a`,
            "--quiet",
          ], { home });
          if (servesArchived) {
            assert.equal(quiet.code, 0, quiet.stderr);
            assert.equal(quiet.stdout, "");
            assert.equal(quiet.stderr, "", "a run that needs nothing of you prints nothing");
            await syncIn(other, `${other.base}/logs-b`, [], 0);
            const status = await runCli(["restore-status", "--json"], { home });
            assert.equal(status.code, 0, status.stderr);
            assert.equal(status.json.notRequested, 0, JSON.stringify(status.json));
            assert.deepEqual(status.json.objects, []);
            const restore = await runCli(["restore", "--tier", "Bulk", "--json"], { home });
            assert.equal(restore.code, 0, restore.stderr);
            assert.equal(restore.json.started, 0, JSON.stringify(restore.json));
            await f.assertMirrors();
            await other.assertMirrors();
            return;
          }
          assert.equal(quiet.code, 3, quiet.stderr);
          assert.equal(quiet.stdout, "");
          assert.match(quiet.stderr, /1 move wait.* \(DEEP_ARCHIVE\).*run "s3-smart-sync restore"/);
          assert.match(quiet.stderr, /Moved 0 .*uploaded 0/, "the total line, not the requests");
          await syncIn(other, `${other.base}/logs-b`, [], 3);

          // No --log-dir: the default one, where neither sync wrote its archive log.
          const status = await runCli(["restore-status", "--json"], { home });
          assert.equal(status.code, 0, status.stderr);
          assert.equal(status.json.notRequested, 2, JSON.stringify(status.json));
          assert.deepEqual(
            status.json.objects.map((line: { key: string }) => line.key).sort(),
            ["backup/a.jpg", "backup/b.jpg"],
          );
          const restore = await runCli(["restore", "--tier", "Bulk", "--json"], { home });
          assert.equal(restore.code, 0, restore.stderr);
          assert.equal(restore.json.started, 2);

          // An unplugged volume is named, and the other target's moves are still shown.
          await Deno.rename(other.src, `${other.base}/unplugged`);
          const partial = await runCli(["restore-status", "--json"], { home });
          assert.equal(partial.code, 0, partial.stderr);
          assert.equal(partial.json.restored, 1);
          assert.match(partial.stderr, /src" is not there \(is the volume mounted\?\)/);
        } finally {
          await f.cleanup();
          await other.cleanup();
        }
      },
    );
  },
);
