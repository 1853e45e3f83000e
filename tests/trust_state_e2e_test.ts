/**
 * Runs that trust the state (`--trust-state`): no listing while the last full listing is
 * young enough, no request at all when nothing changed, moves still conditional on the
 * source's ETag, and the summary saying which kind of run it was. The CLI against moto.
 */
import assert from "node:assert/strict";
import { Fixture, requests } from "./helpers/fixture.ts";
import { MotoServer, runCli } from "./helpers/moto.ts";

Deno.test("runs that trust the state against a real S3 server", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step("a no-change run sends no request, and says it trusted the state", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.jpg": "aaa", "dir/b.txt": "bbbb" });
        const first = await f.runOk("sync", ["--trust-state"]);
        // Never listed before: this run lists.
        assert.equal(first.json.listing.kind, "full");
        assert.equal(requests(first.json, "ListObjectsV2"), 1);
        const trusted = await f.runOk("sync", ["--trust-state"]);
        assert.deepEqual(trusted.json.requests, {});
        assert.equal(trusted.json.listing.kind, "trusted");
        assert.equal(typeof trusted.json.listing.previousFullListingMs, "number");
        assert.equal(trusted.json.unchanged, 2);
        const human = await runCli([
          "sync",
          f.src,
          f.url,
          "--endpoint-url",
          moto.endpoint,
          "--log-dir",
          `${f.base}/logs`,
          "--trust-state",
        ], { home: `${f.base}/home` });
        assert.equal(human.code, 0, human.stderr);
        assert.match(
          human.stdout,
          /S3 requests: none; S3 not listed: trusted the state DB \(last full listing \d+ min ago\)/,
        );
        // Without the flag, every run lists.
        const listed = await f.runOk("sync");
        assert.deepEqual(listed.json.requests, { ListObjectsV2: 1 });
        assert.equal(listed.json.listing.kind, "full");
      } finally {
        await f.cleanup();
      }
    });

    await t.step("a rename is moved with one copy and one DeleteObjects, no listing", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "2024/a.jpg": "photo a", "2024/b.jpg": "photo b", "keep.txt": "k" });
        await f.runOk("sync");
        Deno.renameSync(`${f.src}/2024`, `${f.src}/2024 Rome`);
        const run = await f.runOk("sync", ["--trust-state", "--delete"]);
        // Copies made on recorded ETags: on a custom endpoint (moto ignores the copy's
        // precondition) each source is checked first; on S3 itself the copy's own
        // precondition does it (tests/trusted_moves_test.ts).
        assert.deepEqual(run.json.requests, { HeadObject: 2, CopyObject: 2, DeleteObjects: 1 });
        assert.equal(run.json.moves, 2);
        assert.equal(run.json.uploads, 0);
        await f.assertMirrors();
      } finally {
        await f.cleanup();
      }
    });

    await t.step(
      "a source changed in S3 behind our back is never copied: uploaded instead",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "a.jpg": "original" });
          await f.runOk("sync");
          // Another tool overwrites the object; the state still has the old ETag.
          await moto.put(f.bucket, `${f.prefix}a.jpg`, "someone else's bytes");
          Deno.renameSync(`${f.src}/a.jpg`, `${f.src}/b.jpg`);
          const run = await f.runOk("sync", ["--trust-state"]);
          assert.equal(requests(run.json, "ListObjectsV2"), 0);
          assert.equal(run.json.moves, 0);
          assert.equal(
            run.json.uploads,
            1,
            "the file is uploaded, not copied from a changed source",
          );
          const contents = await moto.contents(f.bucket);
          assert.equal(new TextDecoder().decode(contents.get(`${f.prefix}b.jpg`)), "original");
          assert.equal(
            new TextDecoder().decode(contents.get(`${f.prefix}a.jpg`)),
            "someone else's bytes",
            "an object we did not write is left alone",
          );
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step("a listing older than --max-state-age is taken again", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.jpg": "aaa" });
        await f.runOk("sync");
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        const run = await f.runOk("sync", ["--trust-state", "--max-state-age", "1s"]);
        assert.equal(run.json.listing.kind, "full");
        assert.equal(requests(run.json, "ListObjectsV2"), 1);
        const bad = await f.run("sync", ["--trust-state", "--max-state-age", "a week"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--max-state-age takes a duration such as 90m, 12h, 7d or 2w/);
      } finally {
        await f.cleanup();
      }
    });

    await t.step("status trusts the state too, and reads it only", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.jpg": "aaa", "b.jpg": "bbb" });
        await f.runOk("sync");
        Deno.renameSync(`${f.src}/a.jpg`, `${f.src}/c.jpg`);
        Deno.removeSync(`${f.src}/b.jpg`);
        const status = await f.runOk("status", ["--trust-state", "--delete"]);
        assert.deepEqual(status.json.requests, {});
        assert.equal(status.json.moves, 1);
        assert.equal(status.json.deletes, 1);
      } finally {
        await f.cleanup();
      }
    });
  } finally {
    await moto.stop();
  }
});
