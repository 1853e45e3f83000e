/**
 * What a run says in cron mail and logs, and how it stops: Ctrl-C and `kill` (exit
 * 130/143, totals so far, everything recorded, the next run continues), an S3 that
 * becomes unreachable (totals too), `delete:` lines, phase lines in the run log, log
 * retention, and the state kept outside the synced folder with --state-dir. The CLI as a
 * subprocess against moto, stdout and stderr not a terminal (as under cron).
 */
import assert from "node:assert/strict";
import { Fixture } from "./helpers/fixture.ts";
import { childEnv, MotoServer, runCli } from "./helpers/moto.ts";
import { startHttpProxy } from "./helpers/http_proxy.ts";
import { FaultProxy, isUpload } from "./helpers/fault_proxy.ts";
import { fixtureArgs, sleep, spawnCli } from "./helpers/spawn_cli.ts";

function files(count: number, size = 2000): Record<string, string> {
  const tree: Record<string, string> = {};
  for (let index = 0; index < count; index++) {
    tree[`photos/IMG_${String(index).padStart(4, "0")}.jpg`] = String(index).repeat(size);
  }
  return tree;
}

/**
 * A proxy to `moto` in which each PUT takes 150 ms; `enough` resolves once `puts` PUTs
 * have been sent through it.
 */
function slowPutProxy(moto: MotoServer, puts: number) {
  let seen = 0;
  let signalled: (() => void) | undefined;
  const enough = new Promise<void>((resolve) => signalled = resolve);
  const proxy = startHttpProxy(moto.endpoint, async (request) => {
    if (request.method === "PUT") {
      await sleep(150);
      if (++seen === puts) signalled?.();
    }
    return undefined;
  });
  return { proxy, enough };
}

/** Sends `signal` to a sync once `uploads` uploads have gone through a slow proxy. */
async function interruptedSync(
  moto: MotoServer,
  signal: "SIGINT" | "SIGTERM",
): Promise<void> {
  const f = await Fixture.create(moto);
  // Each upload takes 150 ms: a run of 60 files at 2 in flight takes ~4.5 s.
  const { proxy, enough } = slowPutProxy(moto, 6);
  try {
    await f.write(files(60));
    const run = spawnCli(fixtureArgs(f, "sync", proxy.endpoint, ["--concurrency", "2"]), {
      home: `${f.base}/home`,
    });
    await enough;
    run.kill(signal);
    const result = await run.result;
    assert.equal(result.code, signal === "SIGINT" ? 130 : 143, result.stderr);
    assert.match(result.stderr, new RegExp(`${signal} received: stopping once what is under way`));
    assert.match(
      result.stderr,
      new RegExp(
        `Interrupted by ${signal}: moved 0, uploaded (\\d+) \\([^)]*\\), deleted 0, 0 failed so far, all recorded\\. Run again to continue\\.`,
      ),
    );
    assert.equal(result.json?.interrupted, true);
    const uploadedBefore: number = result.json.uploads;
    assert.ok(uploadedBefore >= 1 && uploadedBefore < 60, String(uploadedBefore));
    // Whatever was uploaded was recorded: the next run uploads only the rest — or adopts
    // what an upload stopped half-way left in S3 after all (the proxy still forwarded it).
    // (The state keys a target by its endpoint: the same proxy.)
    const next = await runCli(fixtureArgs(f, "sync", proxy.endpoint), { home: `${f.base}/home` });
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.json.uploads + next.json.adopted, 60 - uploadedBefore);
    assert.equal(next.json.unchanged, uploadedBefore);
    await f.assertMirrors();
  } finally {
    await proxy.shutdown();
    await f.cleanup();
  }
}

Deno.test("run output and interruptions against a real S3 server", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step(
      "Ctrl-C stops cleanly: exit 130, totals so far, and the next run continues",
      () => interruptedSync(moto, "SIGINT"),
    );

    await t.step("SIGTERM stops cleanly: exit 143", () => interruptedSync(moto, "SIGTERM"));

    await t.step(
      "batch stops at SIGINT: the target under way stops, the next is not run, exit 130",
      async () => {
        const f = await Fixture.create(moto);
        const { proxy, enough } = slowPutProxy(moto, 4);
        try {
          await f.write(files(40));
          Deno.mkdirSync(`${f.base}/second`);
          Deno.writeTextFileSync(`${f.base}/second/x.txt`, "x");
          const config = `${f.base}/batch.conf`;
          Deno.writeTextFileSync(
            config,
            `${f.src} | ${f.bucket} | first/\n${f.base}/second | ${f.bucket} | second/\n`,
          );
          const run = spawnCli([
            "batch",
            "--config",
            config,
            "--engine",
            "native",
            "--endpoint-url",
            proxy.endpoint,
            "--concurrency",
            "2",
            "--log-dir",
            `${f.base}/logs`,
            "--json",
          ], { home: `${f.base}/home` });
          await enough;
          run.kill("SIGINT");
          const result = await run.result;
          assert.equal(result.code, 130, result.stderr);
          assert.match(result.stderr, /Interrupted by SIGINT: what was done is recorded/);
          assert.equal(result.json.targets[1].notRun, "interrupted by SIGINT");
          assert.deepEqual(await moto.list(f.bucket, "second/"), []);
        } finally {
          await proxy.shutdown();
          await f.cleanup();
        }
      },
    );

    await t.step("an S3 that becomes unreachable: the error and the totals so far", async () => {
      const f = await Fixture.create(moto);
      const proxy = FaultProxy.start(moto.endpoint);
      try {
        await f.write(files(30, 100));
        proxy.failAfter(isUpload, 8, "refuse");
        const result = await runCli(
          fixtureArgs(f, "sync", proxy.endpoint, ["--concurrency", "1"]).filter((arg) =>
            arg !== "--json"
          ),
          { home: `${f.base}/home`, env: { AWS_MAX_ATTEMPTS: "1" } },
        );
        assert.equal(result.code, 1, result.stderr);
        assert.match(
          result.stderr,
          /Stopped before the end: moved 0, uploaded 8 \([^)]*\), deleted 0, \d+ failed, all recorded\. Run again to continue\./,
        );
        assert.match(result.stderr, /error: .*unreachable/i);
      } finally {
        await proxy.close();
        await f.cleanup();
      }
    });

    await t.step("each delete is a 'delete:' line in cron output, none with --quiet", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.txt": "a", "b.txt": "b", "keep/c.txt": "c" });
        await f.runOk("sync");
        Deno.removeSync(`${f.src}/a.txt`);
        Deno.removeSync(`${f.src}/b.txt`);
        const args = ["sync", f.src, f.url, "--endpoint-url", moto.endpoint, "--delete"];
        const loud = await runCli([...args, "--log-dir", `${f.base}/logs`], {
          home: `${f.base}/home`,
        });
        assert.equal(loud.code, 0, loud.stderr);
        const deletes = loud.stdout.split("\n").filter((line) => line.startsWith("delete: "));
        assert.deepEqual(deletes.sort(), [
          `delete: s3://${f.bucket}/${f.prefix}a.txt`,
          `delete: s3://${f.bucket}/${f.prefix}b.txt`,
        ]);
        assert.ok(!loud.stderr.includes("\u001b["), "no progress line without a terminal");
        Deno.removeSync(`${f.src}/keep/c.txt`);
        Deno.writeTextFileSync(`${f.src}/d.txt`, "d");
        const quiet = await runCli([...args, "--quiet", "--log-dir", `${f.base}/logs`], {
          home: `${f.base}/home`,
        });
        assert.equal(quiet.code, 0, quiet.stderr);
        assert.equal(quiet.stdout, "");
      } finally {
        await f.cleanup();
      }
    });

    await t.step("the run log has a line per stage, with its counts and duration", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.txt": "a", "b/c.txt": "c" });
        await f.runOk("sync");
        const [log] = [...Deno.readDirSync(`${f.base}/logs`)].filter((entry) =>
          entry.name.endsWith("-sync-" + "") || entry.name.includes("-sync-")
        );
        const text = Deno.readTextFileSync(`${f.base}/logs/${log!.name}`);
        assert.match(text, /INFO {2}scan and listing: 2 local files, 0 objects listed in \d+\.\ds/);
        assert.match(text, /INFO {2}plan: 0 moves, 2 uploads, 0 deletes, 0 deferred in \d+\.\ds/);
        assert.match(text, /INFO {2}execute: 0 moved, 2 uploaded, 0 deleted, 0 failed in \d+\.\ds/);
      } finally {
        await f.cleanup();
      }
    });

    await t.step("run logs older than --log-retention days go; other files stay", async () => {
      const f = await Fixture.create(moto);
      try {
        await f.write({ "a.txt": "a" });
        const logs = `${f.base}/logs`;
        Deno.mkdirSync(logs);
        const old = `${logs}/2026-01-01T00-00-00.000Z-sync-123.log`;
        const recent = `${logs}/2026-11-01T00-00-00.000Z-batch-456.log`;
        const archive = `${logs}/archive_restore_needed.log`;
        for (const path of [old, recent, archive]) Deno.writeTextFileSync(path, "x");
        const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
        Deno.utimeSync(old, daysAgo(40), daysAgo(40));
        Deno.utimeSync(recent, daysAgo(10), daysAgo(10));
        Deno.utimeSync(archive, daysAgo(400), daysAgo(400));
        await f.runOk("sync", ["--log-retention", "0"]);
        assert.ok(Deno.statSync(old).isFile, "0 keeps every log");
        await f.runOk("sync");
        assert.throws(() => Deno.statSync(old), Deno.errors.NotFound);
        assert.ok(Deno.statSync(recent).isFile);
        assert.ok(Deno.statSync(archive).isFile);
        await f.runOk("sync", ["--log-retention", "5"]);
        assert.throws(() => Deno.statSync(recent), Deno.errors.NotFound);
        const bad = await f.run("sync", ["--log-retention", "soon"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--log-retention takes a whole number/);
      } finally {
        await f.cleanup();
      }
    });

    await t.step(
      "--state-dir keeps the state outside the folder, and another path of the same tree shares it",
      async () => {
        const f = await Fixture.create(moto);
        try {
          await f.write({ "2024/a.jpg": "aaaa", "2024/b.jpg": "bbbb", "notes.txt": "n" });
          const state = `${f.base}/state`;
          const first = await f.runOk("sync", ["--state-dir", state]);
          assert.equal(first.json.uploads, 3);
          assert.deepEqual(
            [...Deno.readDirSync(f.src)].map((entry) => entry.name).sort(),
            ["2024", "notes.txt"],
            "nothing of ours in the synced folder",
          );
          assert.ok(Deno.statSync(`${state}/.s3-smart-sync.db`).isFile);
          // The same tree at another path, as the next snapshot of a volume is: its files
          // keep their inodes; the shared state recognises them and the rename.
          const snapshot = `${f.base}/snapshot-2`;
          Deno.renameSync(f.src, snapshot);
          Deno.renameSync(`${snapshot}/2024`, `${snapshot}/2024 Italy`);
          const args = (command: string, extra: string[] = []) => [
            command,
            snapshot,
            f.url,
            "--endpoint-url",
            moto.endpoint,
            "--log-dir",
            `${f.base}/logs`,
            "--json",
            "--state-dir",
            state,
            ...extra,
          ];
          const status = await runCli(args("status", ["--delete"]), { home: `${f.base}/home` });
          assert.equal(status.code, 0, status.stderr);
          assert.equal(status.json.moves, 2);
          const second = await runCli(args("sync", ["--delete"]), { home: `${f.base}/home` });
          assert.equal(second.code, 0, second.stderr);
          assert.equal(second.json.moves, 2);
          assert.equal(second.json.uploads, 0);
          assert.equal(second.json.unchanged, 1);
          assert.throws(() => Deno.statSync(`${snapshot}/.s3-smart-sync.db`), Deno.errors.NotFound);
          Deno.renameSync(snapshot, f.src);
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

Deno.test({
  name: "on a terminal the progress line is drawn and gets out of the way of verbose lines",
  ignore: !hasScript(),
  async fn() {
    const moto = await MotoServer.start();
    const f = await Fixture.create(moto);
    const proxy = startHttpProxy(moto.endpoint, async (request) => {
      if (request.method === "PUT") await sleep(100);
      return undefined;
    });
    try {
      await f.write(files(20, 500));
      const command = [
        Deno.execPath(),
        "run",
        "--allow-all",
        "--quiet",
        new URL("../main.ts", import.meta.url).pathname,
        ...fixtureArgs(f, "sync", proxy.endpoint, ["--concurrency", "2", "-v"]).filter((arg) =>
          arg !== "--json"
        ),
      ].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
      // script(1) gives the CLI a pseudo-terminal, as an interactive shell would.
      const output = await new Deno.Command("script", {
        args: ["-qefc", command, "/dev/null"],
        env: { ...childEnv(), HOME: `${f.base}/home`, COLUMNS: "120" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, text);
      assert.match(text, new RegExp("\r\u001b\\[2K(scanning|planning|uploads \\d+/20)"));
      assert.match(text, /uploads \d+\/20 \([^)]*\)/);
      // Every verbose line starts on a clean line: after a clear, never after progress text.
      for (const match of text.matchAll(/([^\n]*)uploaded photos\/IMG_\d+\.jpg/g)) {
        assert.ok(
          match[1] === "" || match[1]!.endsWith("\r\x1b[2K"),
          `a verbose line ran into the progress line: ${JSON.stringify(match[0])}`,
        );
      }
      assert.match(text, /Moved 0 \(0 B server-side\), uploaded 20/);
    } finally {
      await proxy.shutdown();
      await f.cleanup();
      await moto.stop();
    }
  },
});

function hasScript(): boolean {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
