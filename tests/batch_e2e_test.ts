/**
 * `batch` end to end: the CLI as a subprocess, the real `aws` CLI (v1) on PATH, and moto
 * and Ceph RGW as the S3 server. Renames are moved server-side and aws uploads only new and
 * changed files; excludes, deferred archive moves and broken configs are respected.
 */
import assert from "node:assert/strict";
import { findOnPath } from "../lib/cli/batch/aws_cli.ts";
import { type CliResult, runCli, writeTree as writeNow } from "./helpers/moto.ts";
import { forEachServer, type S3TestServer } from "./helpers/servers.ts";

/**
 * Writes files with an mtime an hour ago. S3, moto and RGW keep LastModified in whole
 * seconds, so aws s3 sync would upload again a file written in the second of its upload.
 */
async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  await writeNow(root, files);
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const path of Object.keys(files)) await Deno.utime(`${root}/${path}`, hourAgo, hourAgo);
}

/** A temp folder with a home, a log dir and a config file for one scenario. */
class Scene {
  private constructor(readonly server: S3TestServer, readonly base: string) {}

  static async create(server: S3TestServer): Promise<Scene> {
    const base = await Deno.makeTempDir({ prefix: "s3ss-batch-" });
    await Deno.mkdir(`${base}/home`);
    return new Scene(server, base);
  }

  get config(): string {
    return `${this.base}/batch.conf`;
  }

  writeConfig(lines: string[]): Promise<void> {
    return Deno.writeTextFile(this.config, ["# test config", "", ...lines, ""].join("\n"));
  }

  batch(extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli(
      [
        "batch",
        "--config",
        this.config,
        "--endpoint-url",
        this.server.endpoint,
        "--log-dir",
        `${this.base}/logs`,
        "--json",
        ...extra,
      ],
      { home: `${this.base}/home`, env },
    );
  }

  async batchOk(extra: string[] = [], expectedCode = 0): Promise<CliResult> {
    const result = await this.batch(extra);
    assert.equal(
      result.code,
      expectedCode,
      `exit code ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
    return result;
  }

  /** Keys that aws reported uploading in the newest batch log ("aws: upload: … to s3://b/key"). */
  lastAwsUploads(): string[] {
    const logs = [...Deno.readDirSync(`${this.base}/logs`)]
      .map((entry) => entry.name).filter((name) => name.includes("-batch-")).sort();
    const text = Deno.readTextFileSync(`${this.base}/logs/${logs.at(-1)}`);
    return [...text.matchAll(/aws: (?:\(dryrun\) )?upload: .* to s3:\/\/[^/]+\/(.*)$/gm)]
      .map((match) => match[1]!).sort();
  }

  cleanup(): Promise<void> {
    return Deno.remove(this.base, { recursive: true });
  }
}

async function keys(server: S3TestServer, bucket: string): Promise<string[]> {
  return (await server.list(bucket)).map((object) => object.key).sort();
}

function byLocal(json: { targets: Array<{ local: string }> }, local: string) {
  const target = json.targets.find((candidate) => candidate.local === local);
  assert.ok(target, `no target ${local} in ${JSON.stringify(json)}`);
  // deno-lint-ignore no-explicit-any
  return target as any;
}

forEachServer("batch: moves, then aws s3 sync, per config target", async (t, server) => {
  assert.ok(findOnPath("aws"), "these tests need the aws CLI on PATH");
  await t.step(
    "renamed files are moved server-side and aws uploads only new and changed files",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("batch");
        const photos = `${s.base}/photos`;
        const docs = `${s.base}/docs`;
        await writeTree(photos, {
          "2023/a.jpg": "photo a",
          "2023/b.jpg": "photo bb",
          "loose.jpg": "loose photo",
          "skip.tmp": "temporary",
          "@eaDir/thumb.jpg": "synology thumbnail",
        });
        await writeTree(docs, {
          "report.pdf": "report v1",
          "notes.txt": "notes",
          "cache/blob.bin": "cache",
        });
        await s.writeConfig([
          `${photos} | ${bucket} | photos | *.tmp, @eaDir/*`,
          `  ${docs}|${bucket}|docs/|cache/*  `,
        ]);

        const dry = await s.batchOk(["--dry-run"]);
        assert.equal(dry.json.dryRun, true);
        assert.equal(dry.json.uploads, 5, "aws --dryrun lines are counted");
        assert.deepEqual(await keys(server, bucket), [], "a dry run changes nothing");

        const first = await s.batchOk();
        assert.equal(first.json.targets.length, 2);
        assert.equal(byLocal(first.json, photos).uploads, 3);
        assert.equal(byLocal(first.json, docs).uploads, 2);
        assert.equal(byLocal(first.json, photos).awsExitCode, 0);
        assert.deepEqual(await keys(server, bucket), [
          "docs/notes.txt",
          "docs/report.pdf",
          "photos/2023/a.jpg",
          "photos/2023/b.jpg",
          "photos/loose.jpg",
        ]);

        await Deno.rename(`${photos}/2023`, `${photos}/2023 Italy`);
        await Deno.rename(`${photos}/loose.jpg`, `${photos}/found.jpg`);
        await Deno.rename(`${docs}/notes.txt`, `${docs}/notes-old.txt`);
        await writeTree(photos, { "new.tmp": "still excluded", "@eaDir/t2.jpg": "thumb" });
        await writeTree(docs, { "report.pdf": "report v2, longer", "new.txt": "new" });

        const second = await s.batchOk();
        const p = byLocal(second.json, photos);
        const d = byLocal(second.json, docs);
        assert.equal(p.moves, 3);
        assert.equal(p.requests.CopyObject, 3, "renames are CopyObject requests");
        assert.equal(p.uploads, 0, "no renamed photo is uploaded again");
        assert.equal(p.deletes, 0, "the moves already removed the old keys");
        assert.equal(d.moves, 1);
        assert.equal(d.requests.CopyObject, 1);
        assert.equal(d.uploads, 2);
        assert.equal(second.json.moves, 4);
        assert.equal(second.json.uploads, 2);
        assert.deepEqual(s.lastAwsUploads(), ["docs/new.txt", "docs/report.pdf"]);
        assert.deepEqual(await keys(server, bucket), [
          "docs/new.txt",
          "docs/notes-old.txt",
          "docs/report.pdf",
          "photos/2023 Italy/a.jpg",
          "photos/2023 Italy/b.jpg",
          "photos/found.jpg",
        ]);
        const report = await server.contents(bucket);
        assert.equal(
          new TextDecoder().decode(report.get("docs/report.pdf")),
          "report v2, longer",
        );

        const third = await s.batchOk([], 0);
        assert.equal(third.json.moves + third.json.uploads + third.json.deletes, 0);
        assert.deepEqual(s.lastAwsUploads(), []);
      } finally {
        await s.cleanup();
      }
    },
  );

  // S3 (moto) copies GLACIER and DEEP_ARCHIVE objects only once restored; Ceph RGW keeps
  // storage classes as labels and serves such objects as they are.
  const servesArchived = server.kind === "rgw";
  await t.step(
    servesArchived
      ? "a target whose source is archived but served is moved at once, then synced by aws"
      : "a target whose moves wait for a restore is synced by the built-in engine, not aws",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("arch");
        const dir = `${s.base}/archive`;
        await writeTree(dir, { "photo [1].jpg": "archived photo", "keep.txt": "kept" });
        const synced = await runCli([
          "sync",
          dir,
          `s3://${bucket}/arch`,
          "--storage-class",
          "DEEP_ARCHIVE",
          "--endpoint-url",
          server.endpoint,
          "--log-dir",
          `${s.base}/logs`,
        ], { home: `${s.base}/home` });
        assert.equal(synced.code, 0, synced.stderr);
        await Deno.rename(`${dir}/photo [1].jpg`, `${dir}/renamed*[1]?.jpg`);
        await writeTree(dir, { "fresh.txt": "new file" });
        await s.writeConfig([`${dir} | ${bucket} | arch |`]);

        if (servesArchived) {
          const result = await s.batchOk(["--quiet"]);
          const target = byLocal(result.json, dir);
          assert.equal(target.deferred, 0);
          assert.equal(target.moves, 1);
          assert.equal(target.requests.CopyObject, 1, "the move is a copy");
          assert.equal(target.engine, "aws");
          assert.equal(target.awsExitCode, 0);
          assert.equal(target.uploads, 1, "aws uploads the new file only");
          assert.equal(target.deletes, 0);
          assert.deepEqual(s.lastAwsUploads(), ["arch/fresh.txt"]);
          const listed = await server.list(bucket);
          assert.deepEqual(listed.map((object) => object.key).sort(), [
            "arch/fresh.txt",
            "arch/keep.txt",
            "arch/renamed*[1]?.jpg",
          ]);
          assert.equal(
            listed.find((object) => object.key === "arch/renamed*[1]?.jpg")?.storageClass,
            "DEEP_ARCHIVE",
            "the class is kept",
          );
          const again = await s.batchOk(["--quiet"]);
          assert.equal(again.json.moves + again.json.uploads + again.json.deletes, 0);
          return;
        }
        for (const run of ["the moves find the deferral", "the state says so at once"]) {
          const result = await s.batchOk(["--quiet"], 3);
          const target = byLocal(result.json, dir);
          assert.equal(target.deferred, 1, run);
          assert.equal(target.moves, 0);
          assert.equal(target.engine, "native", run);
          assert.equal(target.awsExitCode, undefined);
          assert.equal(target.deletes, 0, "the archived old key is not deleted");
          assert.equal(target.exitCode, 3);
          assert.deepEqual(s.lastAwsUploads(), [], "aws was not run");
          assert.deepEqual(await keys(server, bucket), [
            "arch/fresh.txt",
            "arch/keep.txt",
            "arch/photo [1].jpg",
          ]);
          // --quiet still says what waits and what to do, for cron mail.
          assert.match(
            result.stderr,
            /1 move\(s\) wait for archived objects.*s3-smart-sync restore/,
          );
        }
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step(
    "batch never wipes what is beside its target: aws's deletes pass the delete guard first",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("beside");
        for (let i = 0; i < 30; i++) await server.put(bucket, `other-stuff/${i}.txt`, `other ${i}`);
        const dir = `${s.base}/data`;
        await writeTree(dir, { "a.txt": "a", "b/c.txt": "c" });
        await s.writeConfig([`${dir} | ${bucket} | |`]);
        const refused = await s.batch();
        assert.equal(refused.code, 2, refused.stderr);
        const target = refused.json.targets[0];
        assert.match(target.refused, /30 of 30 objects \(100%\) would be deleted/);
        assert.equal(target.awsExitCode, null, "aws was not run");
        assert.equal((await keys(server, bucket)).length, 30, "nothing was deleted or uploaded");

        const dry = await s.batch(["--dry-run"]);
        assert.equal(dry.code, 2, "a dry run judges the deletes the same way");

        const allowed = await s.batch(["--max-delete", "30"]);
        assert.equal(allowed.code, 0, allowed.stderr);
        assert.equal(allowed.json.deletes, 30);
        assert.deepEqual(await keys(server, bucket), ["a.txt", "b/c.txt"]);
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step(
    "a missing or empty directory skips its target, creating nothing; the others run",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("unplugged");
        const present = `${s.base}/present`;
        const empty = `${s.base}/empty-mount`;
        await writeTree(present, { "1.txt": "one" });
        await Deno.mkdir(empty);
        await s.writeConfig([
          `${s.base}/unplugged | ${bucket} | gone |`,
          `${empty} | ${bucket} | empty |`,
          `${present} | ${bucket} | present |`,
        ]);
        const result = await s.batch();
        assert.equal(result.code, 2, result.stderr);
        assert.deepEqual(
          result.json.targets.map((t: { exitCode: number }) => t.exitCode),
          [2, 2, 0],
        );
        assert.match(result.json.targets[0].notRun, /missing/);
        assert.match(result.json.targets[1].notRun, /empty/);
        assert.match(result.stderr, /unplugged" does not exist.*is the volume mounted/);
        assert.match(result.stderr, /empty-mount" is empty: is the volume mounted/);
        assert.deepEqual(await keys(server, bucket), ["present/1.txt"]);
        assert.deepEqual([...Deno.readDirSync(empty)], [], "nothing was created in it");
        assert.equal(result.json.notRun, 2);
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step(
    "names as on disk: sync and batch agree, so alternating them uploads nothing twice",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("nfd");
        const dir = `${s.base}/mac`;
        const nfd = "Re\u0301sume\u0301s/cafe\u0301.txt";
        await writeTree(dir, { [nfd]: "decomposed", "plain.txt": "plain" });
        await s.writeConfig([`${dir} | ${bucket} | m |`]);
        const sync = () =>
          runCli([
            "sync",
            dir,
            `s3://${bucket}/m`,
            "--delete",
            "--endpoint-url",
            server.endpoint,
            "--log-dir",
            `${s.base}/logs`,
            "--json",
          ], { home: `${s.base}/home` });
        const first = await sync();
        assert.equal(first.json.uploads, 2);
        const batch = await s.batchOk();
        assert.equal(batch.json.uploads + batch.json.deletes, 0, "aws finds every key in place");
        const again = await sync();
        assert.equal(again.json.uploads + again.json.deletes, 0);
        assert.deepEqual(await keys(server, bucket), [`m/${nfd}`, "m/plain.txt"]);

        // A renamed folder with a decomposed name is moved by batch, not uploaded again.
        await Deno.rename(`${dir}/Re\u0301sume\u0301s`, `${dir}/Cafe\u0301s`);
        const moved = await s.batchOk();
        assert.equal(moved.json.moves, 1);
        assert.equal(moved.json.uploads, 0);
        assert.deepEqual(await keys(server, bucket), [
          "m/Cafe\u0301s/cafe\u0301.txt",
          "m/plain.txt",
        ]);
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step(
    "aws gets no --delete while a folder cannot be named, so its objects are kept",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("unseen");
        const dir = `${s.base}/data`;
        await writeTree(dir, { "album/a.jpg": "only copy", "keep.txt": "kept" });
        await s.writeConfig([`${dir} | ${bucket} | p |`]);
        await s.batchOk();
        assert.deepEqual(await keys(server, bucket), ["p/album/a.jpg", "p/keep.txt"]);

        // Deno's rename takes only UTF-8; aws cannot upload under this name, and with
        // --delete it would delete p/album/a.jpg, the only copy of the file.
        const rename = `import os; os.rename(b"${dir}/album", b"${dir}/alb\\xff")`;
        const renamed = await new Deno.Command("python3", { args: ["-c", rename] }).output();
        assert.equal(renamed.code, 0, new TextDecoder().decode(renamed.stderr));

        const result = await s.batch();
        assert.notEqual(result.code, 0, "the unnamed folder needs the user");
        assert.match(result.stderr, /could not be read or named .*without --delete/);
        assert.equal(byLocal(result.json, dir).deletes, 0);
        assert.deepEqual(await keys(server, bucket), ["p/album/a.jpg", "p/keep.txt"]);
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step(
    "a broken config line fails with the file and line number, touching nothing",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("broken");
        const dir = `${s.base}/data`;
        await writeTree(dir, { "a.txt": "a" });
        await s.writeConfig([`${dir} | ${bucket} | ok |`, `${dir} | Bad_Bucket | x |`]);
        const result = await s.batch();
        assert.equal(result.code, 2, result.stderr);
        assert.match(
          result.stderr,
          new RegExp(`"${s.config}" line 4: invalid bucket name "Bad_Bucket"`),
        );
        assert.deepEqual(await keys(server, bucket), []);
        assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["a.txt"]);

        await Deno.remove(s.config);
        const missing = await s.batch();
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /does not exist\. Run "s3-smart-sync init --config /);
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step("a failing target does not stop the others and sets exit 1", async () => {
    const s = await Scene.create(server);
    try {
      const bucket = await server.bucket("good");
      await writeTree(`${s.base}/one`, { "1.txt": "one" });
      await writeTree(`${s.base}/two`, { "2.txt": "two" });
      await s.writeConfig([
        `${s.base}/one | no-such-bucket-${crypto.randomUUID().slice(0, 8)} | |`,
        `${s.base}/two | ${bucket} | two |`,
      ]);
      const result = await s.batchOk([], 1);
      assert.equal(result.json.targets[0].exitCode, 1);
      assert.ok(result.json.targets[0].error);
      assert.equal(result.json.targets[1].exitCode, 0);
      assert.equal(result.json.failed, 1);
      assert.deepEqual(await keys(server, bucket), ["two/2.txt"]);

      // Emptied of files: the delete guard refuses aws's deletes before aws runs.
      await Deno.remove(`${s.base}/two/2.txt`);
      await s.writeConfig([`${s.base}/two | ${bucket} | two |`]);
      const empty = await s.batchOk([], 2);
      assert.match(empty.stderr, /Refusing to delete: the local directory has no files/);
      assert.equal(empty.json.targets[0].awsExitCode, null);
      assert.ok(empty.json.targets[0].refused);
      assert.deepEqual(await keys(server, bucket), ["two/2.txt"]);
    } finally {
      await s.cleanup();
    }
  });

  await t.step(
    "aws exit 2 (files skipped) is a warning (exit 3), exit 1 a failure; options reach aws",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("stub");
        await writeTree(`${s.base}/one`, { "1.txt": "one" });
        await writeTree(`${s.base}/two`, { "2.txt": "two" });
        await s.writeConfig([
          `${s.base}/one | ${bucket} | one | *.tmp`,
          `${s.base}/two | ${bucket} | two |`,
        ]);
        // A stand-in for aws: records its arguments one per line, exits with $AWS_STUB_CODE.
        const bin = `${s.base}/bin`;
        await Deno.mkdir(bin);
        await Deno.writeTextFile(
          `${bin}/aws`,
          `#!/bin/sh\nfor arg in "$@"; do printf '%s\\n' "$arg"; done >> "${s.base}/argv"\n` +
            `echo "upload: x to s3://${bucket}/x"\n` +
            `echo "warning: Skipping file /x. File/Directory is not readable." >&2\n` +
            `exit "$AWS_STUB_CODE"\n`,
        );
        await Deno.chmod(`${bin}/aws`, 0o755);
        const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };
        await writeNow(`${s.base}/home/.aws`, {
          credentials: "[nas]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
        });
        const options = [
          "--profile",
          "nas",
          "--region",
          "eu-west-1",
          "--storage-class",
          "glacier_ir",
          "--dry-run",
        ];

        const skipped = await s.batch(options, { ...env, AWS_STUB_CODE: "2" });
        assert.equal(skipped.code, 3, skipped.stderr);
        assert.deepEqual(
          skipped.json.targets.map((t: { awsExitCode: number }) => t.awsExitCode),
          [
            2,
            2,
          ],
        );
        assert.equal(skipped.json.uploads, 2, "upload lines are counted");
        assert.match(skipped.stderr, /aws s3 sync skipped files .*exit 2.*\n.*not readable/);
        const argv = (await Deno.readTextFile(`${s.base}/argv`)).split("\n");
        assert.deepEqual(argv.slice(0, 6), [
          "s3",
          "sync",
          `${s.base}/one`,
          `s3://${bucket}/one/`,
          "--delete",
          "--no-progress",
        ]);
        for (
          const [option, value] of [
            ["--profile", "nas"],
            ["--region", "eu-west-1"],
            ["--storage-class", "GLACIER_IR"],
            ["--exclude", "*.tmp"],
            ["--endpoint-url", server.endpoint],
          ]
        ) assert.equal(argv[argv.indexOf(option!) + 1], value, option);
        assert.ok(argv.includes("--dryrun"));

        const failed = await s.batch([], { ...env, AWS_STUB_CODE: "1" });
        assert.equal(failed.code, 1, failed.stderr);
        assert.equal(failed.json.targets.length, 2, "the second target still ran");
        assert.match(failed.stderr, /aws s3 sync failed for .*\/one \(exit 1\)/);
        assert.match(failed.stdout, /"awsExitCode":1/);
      } finally {
        await s.cleanup();
      }
    },
  );

  await t.step(
    "without aws on PATH batch names --engine native, which then works",
    async () => {
      const s = await Scene.create(server);
      try {
        const bucket = await server.bucket("native");
        const dir = `${s.base}/data`;
        await writeTree(dir, { "a/1.txt": "one", "a/2.txt": "two", "x.tmp": "excluded" });
        await s.writeConfig([`${dir} | ${bucket} | n | *.tmp`]);
        const bin = `${s.base}/bin`;
        await Deno.mkdir(bin);
        await Deno.symlink(Deno.execPath(), `${bin}/deno`);
        const python = findOnPath("python3");
        if (python) await Deno.symlink(python, `${bin}/python3`);
        const env = { PATH: bin };

        const missing = await s.batch([], env);
        assert.equal(missing.code, 2, missing.stderr);
        assert.match(missing.stderr, /"aws" command .* not found on PATH.*--engine native/);
        assert.deepEqual(await keys(server, bucket), []);

        const first = await s.batch(["--engine", "native"], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.json.engine, "native");
        assert.equal(first.json.uploads, 2);
        assert.equal(first.json.targets[0].awsExitCode, undefined);
        assert.deepEqual(await keys(server, bucket), ["n/a/1.txt", "n/a/2.txt"]);

        await Deno.rename(`${dir}/a`, `${dir}/b`);
        await Deno.remove(`${dir}/b/2.txt`);
        const second = await s.batch(["--engine", "native"], env);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(second.json.moves, 1);
        assert.equal(second.json.requests.CopyObject, 1);
        assert.equal(second.json.uploads, 0);
        assert.equal(second.json.deletes, 1, "native runs sync --delete");
        assert.deepEqual(await keys(server, bucket), ["n/b/1.txt"]);
      } finally {
        await s.cleanup();
      }
    },
  );
});
