/**
 * Crash safety against a real S3 server (moto): a tree of about 2,000 files is synced,
 * changed a lot (folders swapped, chained and renamed, files renamed, swapped, edited,
 * added and deleted, two multipart-sized files written), and `sync --delete
 * --force-delete` is killed with SIGKILL at many moments, rerun each time. After every
 * kill, no content that was in S3 and still exists locally may be missing from S3, and
 * the state DB must be sound; after a final complete run the bucket mirrors the tree, a
 * further run has nothing to do, and no multipart upload is left open.
 *
 * Timing only decides where each kill lands; every assertion holds at any kill point.
 */
import assert from "node:assert/strict";
import { integrityCheck, openMultipartUploads, sha256, treeHashes } from "./helpers/checks.ts";
import { Fixture } from "./helpers/fixture.ts";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { type CliResult, MotoServer } from "./helpers/moto.ts";
import type { S3TestServer } from "./helpers/servers.ts";
import { sleep, spawnCli } from "./helpers/spawn_cli.ts";
import { seededRandom } from "./helpers/listing_probe.ts";

const MiB = 1024 * 1024;

function show(run: CliResult): string {
  return `exit code ${run.code}\nstdout: ${run.stdout.slice(0, 3000)}\nstderr: ${
    run.stderr.slice(0, 3000)
  }`;
}

function bigFile(seed: number): Uint8Array {
  const bytes = new Uint8Array(17 * MiB);
  const random = seededRandom(seed);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

async function write(root: string, path: string, content: string | Uint8Array): Promise<void> {
  const full = `${root}/${path}`;
  await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
  if (typeof content === "string") await Deno.writeTextFile(full, content);
  else await Deno.writeFile(full, content);
}

const pad = (n: number, width = 3) => String(n).padStart(width, "0");

/** The tree before the change: 1,951 files, one of them 17 MiB. */
async function buildTree(root: string): Promise<number> {
  let count = 0;
  const put = async (path: string, content: string | Uint8Array) => {
    await write(root, path, content);
    count++;
  };
  for (let i = 0; i < 120; i++) {
    await put(`swap-a/s${pad(i)}.jpg`, `swap A ${i} `.repeat(1 + (i % 7)));
    await put(`swap-b/s${pad(i)}.jpg`, `swap B ${i} `.repeat(2 + (i % 5)));
  }
  for (let i = 0; i < 80; i++) {
    await put(`chain-1/c${pad(i)}.txt`, `chain one ${i}`);
    await put(`chain-2/c${pad(i)}.txt`, `chain two ${i} `.repeat(2));
  }
  for (let i = 0; i < 900; i++) await put(`keep/k${i % 9}/k${pad(i)}.dat`, `keep ${i}`);
  for (let i = 0; i < 150; i++) await put(`edit/e${pad(i)}.txt`, `edit ${i}`);
  for (let i = 0; i < 150; i++) await put(`del/d${pad(i)}.txt`, `delete me ${i}`);
  for (let i = 0; i < 200; i++) await put(`ren/r${pad(i)}.txt`, `rename ${i} `.repeat(3));
  for (let i = 0; i < 150; i++) {
    await put(`projects/alpha/sub${i % 5}/p${pad(i)}.psd`, `project ${i} `.repeat(4));
  }
  await put("big/one.bin", bigFile(1));
  return count;
}

/** The big change. */
async function change(root: string): Promise<void> {
  const mv = (from: string, to: string) => Deno.rename(`${root}/${from}`, `${root}/${to}`);
  // Two folders swap names: 120 cycles of two keys each.
  await mv("swap-a", "swap-tmp");
  await mv("swap-b", "swap-a");
  await mv("swap-tmp", "swap-b");
  // A chain: chain-2 → chain-3, then chain-1 → chain-2.
  await mv("chain-2", "chain-3");
  await mv("chain-1", "chain-2");
  // A nested folder moves elsewhere; ten of its files are edited as well.
  await Deno.mkdir(`${root}/archive`);
  await mv("projects/alpha", "archive/alpha-2023");
  for (let i = 0; i < 150; i += 15) {
    await Deno.writeTextFile(`${root}/archive/alpha-2023/sub${i % 5}/p${pad(i)}.psd`, `v2 ${i}`);
  }
  // Single files: renamed in place, into another folder, a swap, a three-cycle, a file
  // onto the name of a deleted one, and a new file at a renamed file's old name.
  for (let i = 0; i < 30; i++) await mv(`ren/r${pad(i)}.txt`, `ren/r${pad(i)}-renamed.txt`);
  await Deno.mkdir(`${root}/moved`);
  for (let i = 30; i < 60; i++) await mv(`ren/r${pad(i)}.txt`, `moved/r${pad(i)}.txt`);
  await mv("ren/r100.txt", "ren/tmp");
  await mv("ren/r101.txt", "ren/r100.txt");
  await mv("ren/tmp", "ren/r101.txt");
  await mv("ren/r110.txt", "ren/tmp");
  await mv("ren/r111.txt", "ren/r110.txt");
  await mv("ren/r112.txt", "ren/r111.txt");
  await mv("ren/tmp", "ren/r112.txt");
  await Deno.remove(`${root}/del/d000.txt`);
  await mv("ren/r120.txt", "del/d000.txt");
  await Deno.writeTextFile(`${root}/ren/r000.txt`, "a new file where r000 was");
  // Edits, new files and deletions.
  for (let i = 0; i < 50; i++) {
    await Deno.writeTextFile(`${root}/edit/e${pad(i * 3)}.txt`, `edited ${i} `.repeat(i + 1));
  }
  for (let i = 0; i < 100; i++) await write(root, `new/n${pad(i)}.txt`, `new ${i}`);
  for (let i = 0; i < 20; i++) await write(root, `keep/k0/added${pad(i)}.dat`, `added ${i}`);
  for (let i = 1; i < 61; i++) await Deno.remove(`${root}/del/d${pad(i)}.txt`);
  for (let i = 0; i < 5; i++) await Deno.remove(`${root}/swap-a/s${pad(i)}.jpg`);
  // Two multipart-sized files: one rewritten, one new.
  await Deno.writeFile(`${root}/big/one.bin`, bigFile(2));
  await write(root, "big/two.bin", bigFile(3));
}

/**
 * Content hash of every object, by key. Objects are read (GetObject) only when their
 * key, size or ETag changed since the last call: an object's bytes cannot change
 * without its ETag changing.
 */
class BucketHasher {
  readonly #known = new Map<string, { tag: string; hash: string }>();
  constructor(private readonly server: S3TestServer, private readonly bucket: string) {}

  /**
   * Key → content hash. A request the killed CLI sent just before SIGKILL can still be
   * running in the server (a delete of a moved object's source): a key listed and then gone
   * makes it list again, once the server has settled.
   */
  async hashes(): Promise<Map<string, string>> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#hashesOnce();
      } catch (error) {
        if ((error as Error).name !== "NoSuchKey" || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async #hashesOnce(): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const listed = await this.server.list(this.bucket);
    for (const object of listed) {
      const tag = `${object.size} ${object.etag}`;
      let known = this.#known.get(object.key);
      if (!known || known.tag !== tag) {
        const response = await this.server.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: object.key }),
        );
        known = { tag, hash: sha256(await response.Body!.transformToByteArray()) };
        this.#known.set(object.key, known);
      }
      result.set(object.key, known.hash);
    }
    return result;
  }
}

Deno.test("a sync killed at many moments loses nothing and converges", async (t) => {
  const moto = await MotoServer.start();
  const f = await Fixture.create(moto);
  try {
    const initialFiles = await buildTree(f.src);
    const first = await f.run("sync");
    assert.equal(first.code, 0, show(first));
    assert.equal(first.json.uploads, initialFiles);
    const hasher = new BucketHasher(moto, f.bucket);
    const before = new Set((await hasher.hashes()).values());

    await change(f.src);
    // What must survive every kill: contents that were in S3 before the change and
    // still exist in some local file.
    const local = treeHashes(f.src);
    const mustSurvive = new Map([...local].filter(([hash]) => before.has(hash)));
    assert.ok(mustSurvive.size > 1500, `${mustSurvive.size} contents to keep`);

    // How much there is to do: moves (steps through temporary keys included) and uploads.
    const status = await f.run("status", ["--delete"]);
    assert.equal(status.code, 0, show(status));
    const work = status.json.moves + status.json.uploads;
    assert.ok(work > 600, `${work} actions planned`);

    // Kill moments: 20 after the n-th completed action (plus 0-30 ms), n growing so that
    // each run gets a little further than the last through the moves and into the
    // uploads (together about three quarters of the work, so that runs rarely finish),
    // and 4 by time alone, during start-up, scan, listing and planning, put among them
    // at random. Runs that finish anyway are topped up with kills by time, so that at
    // least 20 runs are killed.
    const random = seededRandom(20240611);
    type Moment = { afterMs: number } | { afterActions: number; jitterMs: number };
    const moments: Moment[] = Array.from({ length: 20 }, (_, i) => ({
      afterActions: Math.max(1, Math.round((work * 0.75 * (i + 1)) / 210)),
      jitterMs: Math.floor(random() * 30),
    }));
    for (const afterMs of [30, 150, 500, 1000]) {
      moments.splice(Math.floor(random() * (moments.length + 1)), 0, { afterMs });
    }
    const args = [
      "sync",
      f.src,
      f.url,
      "--endpoint-url",
      moto.endpoint,
      "--log-dir",
      `${f.base}/logs`,
      "--verbose",
      "--delete",
      "--force-delete",
    ];
    const log: string[] = [];
    let killed = 0;
    for (let index = 0; index < moments.length || (killed < 20 && index < 40); index++) {
      const moment = moments[index] ?? { afterMs: 30 + Math.floor(random() * 900) };
      const label = "afterMs" in moment
        ? `after ${moment.afterMs} ms`
        : `after ${moment.afterActions} actions + ${moment.jitterMs} ms`;
      await t.step(`kill ${index + 1} ${label} loses nothing`, async () => {
        let actions = 0;
        let reached: () => void = () => {};
        const reachedActions = new Promise<void>((resolve) => reached = resolve);
        const child = spawnCli(args, {
          home: `${f.base}/home`,
          onStdoutLine: (line) => {
            if (!/^(moved|uploaded|deleted) /.test(line)) return;
            actions++;
            if ("afterActions" in moment && actions >= moment.afterActions) reached();
          },
        });
        const trigger = "afterMs" in moment
          ? sleep(moment.afterMs)
          : reachedActions.then(() => sleep(moment.jitterMs));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, 60_000));
        await Promise.race([trigger, child.result, timeout]);
        clearTimeout(timer);
        child.kill("SIGKILL");
        const result = await child.result;
        if (result.signal === "SIGKILL") killed++;
        else assert.equal(result.code, 0, show(result));

        assert.equal(integrityCheck(f.src), "ok", "the state DB is sound");
        const remote = new Set((await hasher.hashes()).values());
        const lost = [...mustSurvive].filter(([hash]) => !remote.has(hash))
          .map(([, paths]) => paths.join(", "));
        const open = await openMultipartUploads(moto, f.bucket);
        log.push(
          `kill ${index + 1} ${label}: ${
            result.signal ?? `exit ${result.code}`
          } after ${actions} actions, ${remote.size} contents in S3, ${open.length} multipart uploads open`,
        );
        assert.deepEqual(lost, [], `contents lost from S3 after a kill ${label}`);
      });
    }
    console.log(`${work} actions planned\n${log.join("\n")}`);
    assert.ok(killed >= 20, `only ${killed} runs were still going when killed`);

    await t.step("a complete run converges: mirror, sound DB, nothing left open", async () => {
      const last = await f.run("sync", ["--delete", "--force-delete"]);
      assert.equal(last.code, 0, show(last));
      await f.assertMirrors();
      assert.equal(integrityCheck(f.src), "ok");
      const again = await f.run("sync", ["--delete"]);
      assert.equal(again.code, 0, show(again));
      assert.deepEqual(
        Object.keys(again.json.requests),
        ["ListObjectsV2"],
        `a further run only lists: ${JSON.stringify(again.json)}`,
      );
      assert.deepEqual(
        await openMultipartUploads(moto, f.bucket),
        [],
        "no multipart upload is left open (they are billed until aborted)",
      );
    });
  } finally {
    await f.cleanup();
    await moto.stop();
  }
});
