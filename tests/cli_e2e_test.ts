/**
 * The CLI as a user meets it: help, bad input, exit codes, status and dry runs,
 * `moves`, connection settings, logs and the delete guard — each run as a subprocess
 * against a real S3 server (moto).
 */
import assert from "node:assert/strict";
import { Fixture, requests } from "./helpers/fixture.ts";
import { MotoServer, runCli } from "./helpers/moto.ts";

async function tempHome(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "s3ss-home-" });
}

Deno.test("main.ts prints help and version, and rejects bad usage with exit code 2", async () => {
  const home = await tempHome();
  try {
    const help = await runCli(["--help"], { home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /s3-smart-sync sync +<local_dir> <s3:\/\/bucket\[\/prefix\]>/);
    for (const command of ["sync", "moves", "status"]) {
      for (const args of [[command, "--help"], ["help", command]]) {
        const commandHelp = await runCli(args, { home });
        assert.equal(commandHelp.code, 0, command);
        assert.match(commandHelp.stdout, new RegExp(`Usage: s3-smart-sync ${command} <local_dir>`));
        assert.match(commandHelp.stdout, /--exclude PATTERN/);
        assert.match(commandHelp.stdout, /Examples:\n {2}s3-smart-sync /);
        assert.match(commandHelp.stdout, /Exit codes:\n {2}0 /);
      }
    }
    // Each command's help lists only the options it takes.
    const optionsOf = async (command: string) =>
      (await runCli([command, "--help"], { home })).stdout.match(/^ +(?:-\w, )?--[\w-]+/gm)!
        .map((flag) => flag.trim().replace(/^-\w, /, ""));
    const statusOptions = await optionsOf("status");
    const movesOptions = await optionsOf("moves");
    for (const upload of ["--storage-class", "--sse", "--multipart-threshold", "--concurrency"]) {
      assert.ok(!statusOptions.includes(upload), `status --help lists ${upload}`);
      assert.ok(!movesOptions.includes(upload), `moves --help lists ${upload}`);
    }
    assert.ok((await optionsOf("sync")).includes("--storage-class"));
    const restoreStatus = await runCli(["restore-status", "--help"], { home });
    assert.match(restoreStatus.stdout, /Exit codes:\n {2}0 {2}every/);
    for (const [command, code] of [["restore", /--tier TIER/], ["batch", /--engine/]] as const) {
      const text = (await runCli(["help", command], { home })).stdout;
      assert.match(text, code);
      assert.match(text, /Exit codes:/);
    }
    const version = await runCli(["--version"], { home });
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^s3-smart-sync \d+\.\d+\.\d+/);

    const none = await runCli([], { home });
    assert.equal(none.code, 2);
    const unknown = await runCli(["frobnicate"], { home });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "frobnicate"/);
    const option = await runCli(["sync", home, "s3://bucket-x", "--colour"], { home });
    assert.equal(option.code, 2);
    assert.match(option.stderr, /--colour/);
    const typo = await runCli(["sync", home, "s3://bucket-x", "--dryrun"], { home });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /Unknown option "--dryrun" for "sync"\. Did you mean --dry-run\?/);
    const missingArgument = await runCli(["sync", home], { home });
    assert.equal(missingArgument.code, 2);
    assert.match(missingArgument.stderr, /takes two arguments/);
    const badUrl = await runCli(["sync", home, "https://bucket-x/prefix"], { home });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /is not an S3 URL/);
    const badBucket = await runCli(["sync", home, "s3://My_Bucket/x"], { home });
    assert.equal(badBucket.code, 2);
    assert.match(badBucket.stderr, /Invalid bucket name "My_Bucket"/);
    const badClass = await runCli(["sync", home, "s3://bucket-x", "--storage-class", "COLD"], {
      home,
    });
    assert.equal(badClass.code, 2);
    assert.match(badClass.stderr, /Unknown storage class "COLD"/);
    const badConcurrency = await runCli(["sync", home, "s3://bucket-x", "--concurrency", "0"], {
      home,
    });
    assert.equal(badConcurrency.code, 2);
    const deleteOnMoves = await runCli(["moves", home, "s3://bucket-x", "--delete"], { home });
    assert.equal(deleteOnMoves.code, 2);
    assert.match(deleteOnMoves.stderr, /--delete is an option of "sync", not "moves"/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("the CLI against a real S3 server", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step("a missing local directory is a usage error and changes nothing", async () => {
      const f = await Fixture.create(moto);
      try {
        const result = await runCli(
          ["sync", `${f.base}/nope`, f.url, "--endpoint-url", moto.endpoint],
          { home: `${f.base}/home` },
        );
        assert.equal(result.code, 2);
        assert.match(result.stderr, /Local directory ".*nope" does not exist/);
        assert.deepEqual(await moto.list(f.bucket), []);
      } finally {
        await f.cleanup();
      }
    });

    await t.step("a bucket that does not exist is a usage error naming it", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.txt": "a" });
        const result = await runCli(
          ["sync", f.src, "s3://no-such-bucket-here", "--endpoint-url", moto.endpoint, "--json"],
          { home: `${f.base}/home` },
        );
        assert.equal(result.code, 2);
        assert.match(result.stderr, /Bucket "no-such-bucket-here" does not exist/);
        assert.equal(result.json.exitCode, 2);
      } finally {
        await f.cleanup();
      }
    });

    await t.step("an unreachable endpoint fails with exit code 1 and says so", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.txt": "a" });
        const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = (listener.addr as Deno.NetAddr).port;
        listener.close();
        const result = await runCli(
          ["sync", f.src, f.url, "--endpoint-url", `http://127.0.0.1:${port}`],
          { home: `${f.base}/home` },
        );
        assert.equal(result.code, 1);
        assert.match(result.stderr, /Cannot reach S3/);
      } finally {
        await f.cleanup();
      }
    });

    await t.step("status and --dry-run print the plan and change nothing", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "trip/a.jpg": "a", "trip/b.jpg": "bb", "c.txt": "c" });
        const before = await f.runOk("status");
        assert.equal(before.json.uploads, 3);
        assert.equal(before.json.dryRun, true);
        assert.deepEqual(before.json.requests, { ListObjectsV2: 1 });
        await assert.rejects(Deno.stat(`${f.src}/.s3-smart-sync.db`), Deno.errors.NotFound);
        assert.deepEqual(await moto.list(f.bucket), []);

        await f.runOk("sync");
        await Deno.rename(`${f.src}/trip`, `${f.src}/italy`);
        await Deno.remove(`${f.src}/c.txt`);
        const db = await Deno.readFile(`${f.src}/.s3-smart-sync.db`);
        const objects = await moto.list(f.bucket);

        const human = await runCli(
          ["status", f.src, f.url, "--endpoint-url", moto.endpoint, "--delete"],
          { home: `${f.base}/home` },
        );
        assert.equal(human.code, 0);
        assert.match(human.stdout, /would move trip\/a\.jpg → italy\/a\.jpg \(renamed\)/);
        assert.match(human.stdout, /would delete c\.txt \(no local file\)/);
        assert.match(human.stdout, /folder "trip\/" → "italy\/": 2 files/);

        const dry = await f.runOk("sync", ["--dry-run", "--delete"]);
        assert.equal(dry.json.moves, 2);
        assert.equal(dry.json.deletes, 1);
        assert.equal(dry.json.stateWrites, 0);
        assert.deepEqual(dry.json.requests, { ListObjectsV2: 1 });
        assert.deepEqual(await moto.list(f.bucket), objects);
        assert.deepEqual(await Deno.readFile(`${f.src}/.s3-smart-sync.db`), db);

        const real = await f.runOk("sync", ["--delete"]);
        assert.equal(real.json.moves, 2);
        assert.equal(real.json.deletes, 1);
        await f.assertMirrors();
      } finally {
        await f.cleanup();
      }
    });

    await t.step(
      "moves only moves, and still sees renames of files another tool uploaded",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "a.jpg": "aaa", "b.jpg": "bbb" });
          const first = await f.runOk("moves");
          assert.equal(first.json.uploads, 0);
          assert.deepEqual(first.json.requests, { ListObjectsV2: 1 });
          assert.deepEqual(await moto.list(f.bucket), []);
          // Another uploader (aws s3 sync in batch mode) uploads the files.
          await moto.put(f.bucket, `${f.prefix}a.jpg`, "aaa");
          await moto.put(f.bucket, `${f.prefix}b.jpg`, "bbb");
          await Deno.rename(`${f.src}/a.jpg`, `${f.src}/renamed.jpg`);
          await Deno.remove(`${f.src}/b.jpg`);
          const second = await f.runOk("moves");
          assert.equal(second.json.moves, 1);
          assert.equal(second.json.deletes, 0);
          assert.equal(requests(second.json, "CopyObject"), 1);
          assert.equal(requests(second.json, "PutObject"), 0);
          const keys = (await moto.list(f.bucket)).map((object) => object.key).sort();
          assert.deepEqual(keys, [`${f.prefix}b.jpg`, `${f.prefix}renamed.jpg`]);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "AWS_ENDPOINT_URL_S3 and a --profile from ~/.aws work as with the aws CLI",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "a.txt": "a" });
          const viaEnv = await runCli(["sync", f.src, f.url, "--json"], {
            home: `${f.base}/home`,
            env: { AWS_ENDPOINT_URL_S3: moto.endpoint },
          });
          assert.equal(viaEnv.code, 0, viaEnv.stderr);
          assert.equal(viaEnv.json.uploads, 1);

          await Deno.mkdir(`${f.base}/home/.aws`);
          await Deno.writeTextFile(
            `${f.base}/home/.aws/credentials`,
            "[nas]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
          );
          await Deno.writeTextFile(
            `${f.base}/home/.aws/config`,
            "[profile nas]\nregion = eu-west-1\n",
          );
          await f.write({ "b.txt": "b" });
          const unset = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
          const viaProfile = await runCli(
            ["sync", f.src, f.url, "--endpoint-url", moto.endpoint, "--profile", "nas", "--json"],
            { home: `${f.base}/home`, unset },
          );
          assert.equal(viaProfile.code, 0, viaProfile.stderr);
          assert.equal(viaProfile.json.uploads, 1);

          const noProfile = await runCli(
            ["sync", f.src, f.url, "--endpoint-url", moto.endpoint, "--profile", "missing"],
            { home: `${f.base}/home`, unset },
          );
          assert.equal(noProfile.code, 2, noProfile.stderr);
          assert.match(noProfile.stderr, /credentials/i);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "each run writes a timestamped log file; --quiet prints nothing on success",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "a.txt": "a" });
          const result = await runCli(
            [
              "sync",
              f.src,
              f.url,
              "--endpoint-url",
              moto.endpoint,
              "--log-dir",
              `${f.base}/logs`,
              "-q",
            ],
            { home: `${f.base}/home` },
          );
          assert.equal(result.code, 0);
          assert.equal(result.stdout, "");
          const logs = [...Deno.readDirSync(`${f.base}/logs`)].map((entry) => entry.name);
          assert.equal(logs.length, 1);
          assert.match(logs[0]!, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-sync-\d+\.log$/);
          const text = await Deno.readTextFile(`${f.base}/logs/${logs[0]}`);
          assert.match(
            text,
            /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}s3-smart-sync sync /m,
          );
          assert.match(text, /uploaded 1/);
          assert.equal((await Deno.stat(`${f.base}/logs/${logs[0]}`)).mode! & 0o777, 0o600);

          const defaultLog = await runCli(
            ["sync", f.src, f.url, "--endpoint-url", moto.endpoint],
            { home: `${f.base}/home` },
          );
          assert.equal(defaultLog.code, 0);
          assert.equal([...Deno.readDirSync(`${f.base}/home/.s3-smart-sync/logs`)].length, 1);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "--delete refuses to empty the bucket when the directory looks unmounted",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const files: Record<string, string> = {};
          for (let i = 0; i < 20; i++) files[`f${i}.txt`] = `file ${i}`;
          await f.write(files);
          await f.runOk("sync");
          for (let i = 0; i < 20; i++) await Deno.remove(`${f.src}/f${i}.txt`);
          const refused = await f.run("sync", ["--delete"]);
          assert.equal(refused.code, 2);
          assert.match(refused.stderr, /Refusing to delete: the local directory has no files/);
          assert.equal((await moto.list(f.bucket)).length, 20);

          await f.write({ "f0.txt": "file 0" });
          const most = await f.run("sync", ["--delete"]);
          assert.equal(most.code, 2);
          assert.match(most.stderr, /19 of 20 objects \(95%\) would be deleted/);
          assert.equal((await moto.list(f.bucket)).length, 20);

          const limited = await f.run("sync", ["--delete", "--max-delete", "5"]);
          assert.equal(limited.code, 2);
          const forced = await f.runOk("sync", ["--delete", "--force-delete"]);
          assert.equal(forced.json.deletes, 19);
          await f.assertMirrors();
        } finally {
          await f.cleanup();
        }
      },
    );
  } finally {
    await moto.stop();
  }
});
