/**
 * Guards of a tool that runs unattended: one run at a time, stale locks, deletes
 * refused without state, content verified before a move, no secrets in logs,
 * owner-only files.
 */
import assert from "node:assert/strict";
import { lockPath } from "../lib/state/lock.ts";
import { Fixture, requests } from "./helpers/fixture.ts";
import { MotoServer } from "./helpers/moto.ts";

Deno.test("safety guards against a real S3 server", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step(
      "a second run on the same directory and target stops; a stale lock is taken over",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "a.txt": "a" });
          const path = lockPath(f.src, {
            endpoint: moto.endpoint,
            bucket: f.bucket,
            prefix: f.prefix,
          });
          const held = await Deno.open(path, { create: true, write: true });
          await Deno.writeTextFile(path, "pid 4242, started 2026-01-01T00:00:00.000Z\n");
          await held.lock(true);
          const blocked = await f.run("sync");
          assert.equal(blocked.code, 1);
          assert.match(blocked.stderr, /Another s3-smart-sync run \(pid 4242, started 2026-01-01/);
          assert.deepEqual(await moto.list(f.bucket), [], "nothing was changed");
          held.close(); // the holder dies: the kernel releases its lock, the file stays
          const taken = await f.runOk("sync", ["--verbose"]);
          assert.equal(taken.json.uploads, 1);
          await assert.rejects(
            Deno.stat(path),
            Deno.errors.NotFound,
            "a clean run removes its lock",
          );
          const logs = [...Deno.readDirSync(`${f.base}/logs`)].map((entry) => entry.name).sort();
          const text = await Deno.readTextFile(`${f.base}/logs/${logs.at(-1)}`);
          assert.match(
            text,
            /took over the lock of a run that ended without releasing it \(pid 4242/,
          );
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "--delete is refused when the state DB is gone and the directory is nearly empty",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const files: Record<string, string> = {};
          for (let i = 0; i < 30; i++) files[`photo_${i}.jpg`] = `photo ${i}`;
          await f.write(files);
          await f.runOk("sync");
          await Deno.remove(`${f.src}/.s3-smart-sync.db`);
          for (let i = 1; i < 30; i++) await Deno.remove(`${f.src}/photo_${i}.jpg`);
          const refused = await f.run("sync", ["--delete"]);
          assert.equal(refused.code, 2);
          assert.match(refused.stderr, /29 of 30 objects \(97%\) would be deleted/);
          assert.equal((await moto.list(f.bucket)).length, 30);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "--verify-moves uploads a file whose inode, size and mtime match but content does not",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "a.txt": "original!", "x.txt": "x" });
          await f.runOk("sync");
          const info = await Deno.stat(`${f.src}/a.txt`);
          await Deno.rename(`${f.src}/a.txt`, `${f.src}/b.txt`);
          // Same inode, same size, same mtime, other content: what inode reuse can look like.
          await Deno.writeTextFile(`${f.src}/b.txt`, "different");
          await Deno.utime(`${f.src}/b.txt`, info.atime!, info.mtime!);
          const run = await f.runOk("sync", ["--verify-moves", "--delete"]);
          assert.equal(run.json.moves, 0);
          assert.equal(run.json.uploads, 1);
          assert.equal(requests(run.json, "CopyObject"), 0);
          assert.match(
            run.stderr,
            /"b\.txt" has the inode, size and mtime of "a\.txt" but other content/,
          );
          assert.equal(run.json.deletes, 1, "the old key, whose content no file has, goes too");
          const next = await f.runOk("sync", ["--delete"]);
          assert.deepEqual(next.json.requests, { ListObjectsV2: 1 });
          await f.assertMirrors();
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step("secrets never reach the log; state and log files are owner-only", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.txt": "a" });
        const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
        const endpoint = moto.endpoint.replace("http://", "http://user:pa55word@");
        const run = await f.run("sync", ["--endpoint-url", endpoint, "--verbose"], {
          AWS_SECRET_ACCESS_KEY: secret,
        });
        assert.equal(run.code, 0, run.stderr);
        for (const entry of Deno.readDirSync(`${f.base}/logs`)) {
          const text = await Deno.readTextFile(`${f.base}/logs/${entry.name}`);
          assert.ok(!text.includes(secret), "the secret key is not logged");
          assert.ok(!text.includes("pa55word"), "the endpoint's password is not logged");
          assert.equal((await Deno.stat(`${f.base}/logs/${entry.name}`)).mode! & 0o777, 0o600);
        }
        assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret));
        for (const name of [".s3-smart-sync.db", ".s3-smart-sync.db-wal"]) {
          const mode = (await Deno.stat(`${f.src}/${name}`).catch(() => undefined))?.mode;
          if (mode !== undefined && mode !== null) {
            assert.equal(mode & 0o077, 0, `${name} is owner-only`);
          }
        }
        assert.equal((await Deno.stat(`${f.base}/logs`)).mode! & 0o077, 0);
      } finally {
        await f.cleanup();
      }
    });
    await t.step(
      "an empty directory (an unmounted volume) is refused and nothing is created in it",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await moto.put(f.bucket, `${f.prefix}kept.txt`, "the only copy");
          for (const extra of [[], ["--delete"]]) {
            const refused = await f.run("sync", extra);
            assert.equal(refused.code, 2, refused.stderr);
            assert.match(
              refused.stderr,
              /src" is empty: is the volume mounted\? Nothing was changed/,
            );
            for (const command of ["moves", "sync"]) {
              assert.equal(
                (await f.run(command, extra.slice(0, command === "sync" ? 1 : 0))).code,
                2,
              );
            }
            assert.deepEqual([...Deno.readDirSync(f.src)], [], "no state DB, no lock file");
          }
          assert.equal((await moto.list(f.bucket)).length, 1);
          // status only reads: it shows what a sync would do.
          const status = await f.runOk("status", ["--delete", "--force-delete"]);
          assert.equal(status.json.deletes, 1);
          assert.deepEqual([...Deno.readDirSync(f.src)], []);
          // The user says the emptiness is real.
          const forced = await f.runOk("sync", ["--delete", "--force-delete"]);
          assert.equal(forced.json.deletes, 1);
          assert.deepEqual(await moto.list(f.bucket), []);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "state files of nested synced directories, and their locks, stay local",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({
            "a.txt": "a",
            "nested/b.txt": "b",
            "nested/.s3-smart-sync.db": "another directory's state",
            "nested/.s3-smart-sync.db-wal": "its journal",
            "nested/.s3-smart-sync.db.lock-0123456789ab": "pid 1, started 2026-01-01",
            ".s3-smart-sync.db.lock-ba9876543210": "pid 2, started 2026-01-01",
          });
          const run = await f.runOk("sync");
          assert.equal(run.json.uploads, 2);
          assert.deepEqual(
            (await moto.list(f.bucket)).map((object) => object.key).sort(),
            [`${f.prefix}a.txt`, `${f.prefix}nested/b.txt`],
          );
        } finally {
          await f.cleanup();
        }
      },
    );
  } finally {
    await moto.stop();
  }
});
