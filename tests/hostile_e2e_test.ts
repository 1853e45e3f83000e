/**
 * Hostile trees against a real S3 server (moto): names S3 and XML find awkward, very
 * deep paths, symbolic links and loops, FIFOs and sockets, empty files, a file and a
 * folder trading names, and files that vanish while the run is going. Each tree is
 * synced, renamed, and synced again; the bucket must mirror the tree byte for byte.
 */
import assert from "node:assert/strict";
import { assertExactMirror, exactContents, sha256 } from "./helpers/checks.ts";
import { Fixture, requests } from "./helpers/fixture.ts";
import { childEnv, type CliResult, MotoServer } from "./helpers/moto.ts";
import { startMotoAllowingLineBreaks } from "./helpers/moto_line_breaks.ts";
import { fixtureArgs, sleep, spawnCli } from "./helpers/spawn_cli.ts";

function show(run: CliResult): string {
  return `exit code ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

async function syncOk(f: Fixture, extra: string[] = [], expected = 0): Promise<CliResult> {
  const run = await f.run("sync", extra);
  assert.equal(run.code, expected, show(run));
  return run;
}

/** A second run over an unchanged tree sends nothing but the listing. */
async function assertStable(f: Fixture): Promise<void> {
  const again = await f.run("sync", ["--delete"]);
  assert.equal(again.code, 0, show(again));
  assert.deepEqual(
    again.json.requests,
    { ListObjectsV2: 1 },
    `an unchanged tree made requests: ${JSON.stringify(again.json)}`,
  );
}

async function writeNamed(root: string, files: Array<[string, string]>): Promise<void> {
  for (const [path, content] of files) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
}

/** Sync, rename the folder `from` to `to`, sync with --delete; the bucket mirrors each time. */
async function syncRenameSync(
  f: Fixture,
  files: Array<[string, string]>,
  rename: { from: string; to: string },
): Promise<void> {
  await writeNamed(f.src, files);
  const first = await syncOk(f);
  assert.equal(first.json.uploads, files.length, show(first));
  await assertExactMirror(f.server, f);

  await Deno.rename(`${f.src}/${rename.from}`, `${f.src}/${rename.to}`);
  const moved = await syncOk(f, ["--delete"]);
  await assertExactMirror(f.server, f);
  const inFolder = files.filter(([path]) => path.startsWith(rename.from + "/")).length;
  assert.equal(moved.json.moves, inFolder, show(moved));
  assert.equal(requests(moved.json, "PutObject"), 0, show(moved));
  assert.equal(moved.json.deletes, 0, show(moved));
  await assertStable(f);
}

/** The bytes of `text` with every character below U+0100 as one byte (Latin-1). */
function latin1(text: string): Uint8Array {
  return Uint8Array.from([...text].map((char) => {
    const code = char.codePointAt(0)!;
    assert.ok(code < 256, "Latin-1 only");
    return code;
  }));
}

/** Renames to a path given as raw bytes (Deno's own rename takes only UTF-8 strings). */
async function renameBytes(from: string, to: Uint8Array): Promise<void> {
  const hex = (bytes: Uint8Array) =>
    [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const output = await new Deno.Command("python3", {
    args: [
      "-c",
      "import os, sys; os.rename(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]))",
      hex(new TextEncoder().encode(from)),
      hex(to),
    ],
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
}

/** Asserts that every content written is still in the bucket, under some key. */
async function assertContentsKept(
  f: Fixture,
  files: Array<[string, string]>,
  run: CliResult,
): Promise<void> {
  const inBucket = new Set([...(await exactContents(f.server, f.bucket)).values()].map(sha256));
  const lost = files.filter(([, content]) =>
    !inBucket.has(sha256(new TextEncoder().encode(content)))
  ).map(([path]) => path);
  assert.deepEqual(
    lost,
    [],
    `contents of files that still exist locally were removed from S3 by this run: exit code ${run.code}, deletes ${run.json?.deletes}, stderr: ${run.stderr}`,
  );
}

/**
 * Runs the CLI as a user that file permissions apply to: as root (which reads any
 * folder whatever its mode) it runs the CLI as nobody, with a readable copy of Deno's
 * cache; as anyone else, as that user.
 */
class NonRootRunner {
  private constructor(private readonly f: Fixture, private readonly denoDir?: string) {}

  static async create(f: Fixture): Promise<NonRootRunner> {
    if (Deno.uid() !== 0) return new NonRootRunner(f);
    const denoDir = await Deno.makeTempDir({ prefix: "s3ss-deno-dir-" });
    const copy = await new Deno.Command("cp", {
      args: ["-a", `${childEnv().DENO_DIR}/.`, denoDir],
    }).output();
    assert.equal(copy.code, 0, new TextDecoder().decode(copy.stderr));
    const chmod = await new Deno.Command("chmod", { args: ["-R", "a+rX", denoDir] }).output();
    assert.equal(chmod.code, 0);
    await Deno.chmod(denoDir, 0o755);
    return new NonRootRunner(f, denoDir);
  }

  /** Hands the fixture's folders to the user the CLI runs as. */
  async own(): Promise<void> {
    if (!this.denoDir) return;
    const chown = await new Deno.Command("chown", { args: ["-R", "65534:65534", this.f.base] })
      .output();
    assert.equal(chown.code, 0);
  }

  async run(args: string[]): Promise<CliResult> {
    const [command, ...extra] = args;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        new URL("../main.ts", import.meta.url).pathname,
        ...fixtureArgs(this.f, command!, this.f.server.endpoint, extra),
      ],
      env: {
        ...childEnv(),
        HOME: `${this.f.base}/home`,
        ...(this.denoDir ? { DENO_DIR: this.denoDir } : {}),
      },
      clearEnv: true,
      ...(this.denoDir ? { uid: 65534, gid: 65534 } : {}),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    let json;
    try {
      json = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
    } catch {
      json = undefined;
    }
    return { code: output.code, stdout, stderr: new TextDecoder().decode(output.stderr), json };
  }

  async cleanup(): Promise<void> {
    if (this.denoDir) await Deno.remove(this.denoDir, { recursive: true });
  }
}

Deno.test("hostile trees against a real S3 server", async (t) => {
  const moto = await MotoServer.start();
  try {
    await t.step(
      "names with backslashes, %, +, quotes, XML specials, emoji and edge spaces survive a folder rename",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const names = [
            "back\\slash.txt",
            "\\leading backslash",
            "100% done.txt",
            "%41%2F%zz.txt",
            "a+b+c.txt",
            " leading space.txt",
            "trailing space.txt ",
            "   ",
            'double "quoted".txt',
            "it's single.txt",
            "emoji 📷🎉👩‍👩‍👧.jpg",
            "<tag>&amp; ]]> &#x41;.xml",
            "?q=1&r=2#frag.txt",
            "*star[1]?.txt",
            "~",
            "...",
            "-dash-first",
          ];
          const files: Array<[string, string]> = [];
          for (const [index, name] of names.entries()) {
            files.push([`odd/${name}`, `content ${index} of ${JSON.stringify(name)}`]);
          }
          files.push([" spaced dir /inner.txt", "in a folder with edge spaces"]);
          files.push(["odd/100% sub+dir \\ 🎉 /deeper.txt", "in an odd folder"]);
          files.push(["plain.txt", "plain"]);
          await syncRenameSync(f, files, { from: "odd", to: "odd renamed + 100% ✓ " });
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "names with carriage returns, tabs and other control characters survive a folder rename",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const names = [
            "carriage\rreturn.txt",
            "trailing return\r",
            "tab\there.txt",
            "ctrl\u0001char.txt",
            "escape\u001b[31mred.txt",
            "del\u007f.txt",
            "next line\u0085.txt",
            "line sep\u2028para sep\u2029.txt",
            "bom\ufeff.txt",
          ];
          const files: Array<[string, string]> = [];
          for (const [index, name] of names.entries()) {
            files.push([`ctl/${name}`, `content ${index} of ${JSON.stringify(name)}`]);
          }
          files.push(["plain.txt", "plain"]);
          await syncRenameSync(f, files, { from: "ctl", to: "ctl\trenamed" });
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "names with line breaks survive a folder rename (moto patched to store them, as S3 does)",
      async () => {
        const patched = await startMotoAllowingLineBreaks();
        const f = await Fixture.create(patched);
        try {
          const files: Array<[string, string]> = [
            ["nl/line\nbreak.txt", "one"],
            ["nl/two\n\nbreaks\n", "two"],
            ["nl/crlf\r\n.txt", "three"],
            ["nl/sub\nfolder/inner.txt", "four"],
            ["plain.txt", "plain"],
          ];
          await syncRenameSync(f, files, { from: "nl", to: "nl\nrenamed" });
        } finally {
          await f.cleanup();
          await patched.stop();
        }
      },
    );

    await t.step(
      "deleting a file named with a carriage return never deletes its line-feed twin's object",
      async () => {
        const patched = await startMotoAllowingLineBreaks();
        const f = await Fixture.create(patched);
        try {
          const files: Array<[string, string]> = [
            ["twins/x\ry.txt", "the carriage-return twin"],
            ["twins/x\ny.txt", "the line-feed twin"],
            ["twins/x\r\ny.txt", "the CRLF twin"],
          ];
          for (let i = 0; i < 30; i++) files.push([`other/o${i}.txt`, `other ${i}`]);
          await writeNamed(f.src, files);
          await syncOk(f);
          await assertExactMirror(patched, f);
          await Deno.remove(`${f.src}/twins/x\ry.txt`);
          await Deno.remove(`${f.src}/twins/x\r\ny.txt`);
          const run = await syncOk(f, ["--delete"]);
          await assertContentsKept(f, files.filter(([path]) => !path.includes("\r")), run);
          await assertExactMirror(patched, f);
        } finally {
          await f.cleanup();
          await patched.stop();
        }
      },
    );

    await t.step("a path 40 folders deep (key under 1024 bytes) survives a rename", async () => {
      const f = await Fixture.create(moto);
      try {
        const levels = Array.from({ length: 40 }, (_, i) => `level-${String(i).padStart(2, "0")}`);
        const deep = levels.join("/");
        const files: Array<[string, string]> = [
          [`${deep}/bottom.txt`, "at the bottom"],
          [`${levels.slice(0, 20).join("/")}/middle.txt`, "half way"],
          ["top.txt", "top"],
        ];
        assert.ok(
          new TextEncoder().encode(`${f.prefix}${deep}/bottom.txt`).length < 1024,
          "the key fits",
        );
        await syncRenameSync(f, files, { from: "level-00", to: "renamed-00" });
        // And a file with a long name renamed at the bottom.
        const bottom = `${f.src}/renamed-00/${levels.slice(1).join("/")}`;
        await Deno.writeTextFile(`${bottom}/${"n".repeat(200)}.txt`, "long name");
        await syncOk(f);
        await Deno.rename(`${bottom}/${"n".repeat(200)}.txt`, `${bottom}/${"m".repeat(200)}.txt`);
        const run = await syncOk(f, ["--delete"]);
        assert.equal(run.json.moves, 1, show(run));
        await assertExactMirror(f.server, f);
      } finally {
        await f.cleanup();
      }
    });

    await t.step(
      "symbolic links are never followed or uploaded, and link loops are harmless",
      async () => {
        const f = await Fixture.create(moto);
        const outside = await Deno.makeTempDir({ prefix: "s3ss-outside-" });
        try {
          await writeNamed(f.src, [
            ["real/a.txt", "a"],
            ["real/sub/b.txt", "bb"],
            ["other.txt", "other"],
          ]);
          await Deno.writeTextFile(`${outside}/secret.txt`, "outside the tree");
          await Deno.symlink(`${f.src}/real/a.txt`, `${f.src}/link-to-file.txt`);
          await Deno.symlink("real", `${f.src}/link-to-dir`);
          await Deno.symlink(".", `${f.src}/real/self`);
          await Deno.symlink("..", `${f.src}/real/sub/parent`);
          await Deno.symlink("loop-b", `${f.src}/loop-a`);
          await Deno.symlink("loop-a", `${f.src}/loop-b`);
          await Deno.symlink("does-not-exist", `${f.src}/dangling`);
          await Deno.symlink(outside, `${f.src}/outside-dir`);
          await Deno.symlink(`${outside}/secret.txt`, `${f.src}/outside-file.txt`);
          const first = await syncOk(f);
          assert.equal(first.json.uploads, 3, show(first));
          await assertExactMirror(f.server, f);
          await assertStable(f);

          // A folder holding links is renamed; a file is replaced by a link to its new name.
          await Deno.rename(`${f.src}/real`, `${f.src}/renamed`);
          await Deno.rename(`${f.src}/other.txt`, `${f.src}/renamed/other.txt`);
          await Deno.symlink("renamed/other.txt", `${f.src}/other.txt`);
          const run = await syncOk(f, ["--delete"]);
          assert.equal(run.json.moves, 3, show(run));
          assert.equal(requests(run.json, "PutObject"), 0, show(run));
          await assertExactMirror(f.server, f);
          const keys = (await moto.list(f.bucket)).map((object) => object.key);
          assert.ok(!keys.some((key) => /link|loop|dangling|outside|self|parent/.test(key)));
          await assertStable(f);
        } finally {
          await Deno.remove(outside, { recursive: true });
          await f.cleanup();
        }
      },
    );

    await t.step("a FIFO and a socket are skipped without hanging the run", async () => {
      const f = await Fixture.create(moto);
      let listener: Deno.Listener | undefined;
      try {
        await writeNamed(f.src, [["dir/a.txt", "a"], ["b.txt", "b"]]);
        const made = await new Deno.Command("mkfifo", { args: [`${f.src}/dir/pipe.txt`] })
          .output();
        assert.equal(made.code, 0);
        listener = Deno.listen({ transport: "unix", path: `${f.src}/dir/socket` });
        const guarded = async (extra: string[]) => {
          const child = spawnCli(fixtureArgs(f, "sync", moto.endpoint, extra), {
            home: `${f.base}/home`,
          });
          const timer = setTimeout(() => child.kill(), 90_000);
          try {
            const result = await child.result;
            assert.equal(result.signal, null, "the run hung on a FIFO and was killed");
            return result;
          } finally {
            clearTimeout(timer);
          }
        };
        const first = await guarded([]);
        assert.equal(first.code, 0, show(first));
        assert.equal(first.json.uploads, 2);
        await assertExactMirror(f.server, f);

        await Deno.rename(`${f.src}/dir`, `${f.src}/moved`);
        const second = await guarded(["--delete"]);
        assert.equal(second.code, 0, show(second));
        assert.equal(second.json.moves, 1, show(second));
        await assertExactMirror(f.server, f);
        const keys = (await moto.list(f.bucket)).map((object) => object.key);
        assert.ok(!keys.some((key) => key.includes("pipe") || key.includes("socket")));
      } finally {
        listener?.close();
        await f.cleanup();
      }
    });

    await t.step(
      "zero-byte files are uploaded, renamed, swapped and truncated correctly",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const files: Array<[string, string]> = [];
          for (let i = 0; i < 12; i++) files.push([`empty/e${i}`, ""]);
          files.push(["full.txt", "not empty"], ["to-empty.txt", "will be truncated"]);
          await writeNamed(f.src, files);
          const first = await syncOk(f);
          assert.equal(first.json.uploads, 14);
          await assertExactMirror(f.server, f);

          // Rename, swap two empties, replace an empty by a non-empty file and truncate one.
          await Deno.rename(`${f.src}/empty/e0`, `${f.src}/empty/e0-renamed`);
          await Deno.rename(`${f.src}/empty/e1`, `${f.src}/swap.tmp`);
          await Deno.rename(`${f.src}/empty/e2`, `${f.src}/empty/e1`);
          await Deno.rename(`${f.src}/swap.tmp`, `${f.src}/empty/e2`);
          await Deno.remove(`${f.src}/empty/e3`);
          await Deno.rename(`${f.src}/empty/e4`, `${f.src}/empty/e3`);
          await Deno.writeTextFile(`${f.src}/empty/e5`, "now it has content");
          await Deno.truncate(`${f.src}/to-empty.txt`, 0);
          await Deno.rename(`${f.src}/full.txt`, `${f.src}/empty/full.txt`);
          await syncOk(f, ["--delete"]);
          await assertExactMirror(f.server, f);
          await assertStable(f);

          await Deno.rename(`${f.src}/empty`, `${f.src}/void`);
          const run = await syncOk(f, ["--delete"]);
          assert.equal(run.json.moves, 12, show(run));
          await assertExactMirror(f.server, f);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step("a file and a folder that swap names are both kept", async () => {
      const f = await Fixture.create(moto);
      try {
        await writeNamed(f.src, [
          ["thing", "I am a file called thing"],
          ["stuff/one.txt", "one"],
          ["stuff/two.txt", "two"],
          ["photos", "a file that becomes a folder holding itself"],
        ]);
        await syncOk(f);
        await assertExactMirror(f.server, f);
        await Deno.rename(`${f.src}/thing`, `${f.src}/swap`);
        await Deno.rename(`${f.src}/stuff`, `${f.src}/thing`);
        await Deno.rename(`${f.src}/swap`, `${f.src}/stuff`);
        await Deno.rename(`${f.src}/photos`, `${f.src}/photos.tmp`);
        await Deno.mkdir(`${f.src}/photos`);
        await Deno.rename(`${f.src}/photos.tmp`, `${f.src}/photos/photos`);
        const run = await syncOk(f, ["--delete"]);
        assert.equal(run.json.moves, 4, show(run));
        assert.equal(requests(run.json, "PutObject"), 0, show(run));
        await assertExactMirror(f.server, f);
        await assertStable(f);

        // And back again.
        await Deno.rename(`${f.src}/stuff`, `${f.src}/swap`);
        await Deno.rename(`${f.src}/thing`, `${f.src}/stuff`);
        await Deno.rename(`${f.src}/swap`, `${f.src}/thing`);
        await Deno.rename(`${f.src}/photos/photos`, `${f.src}/photos.tmp`);
        await Deno.remove(`${f.src}/photos`);
        await Deno.rename(`${f.src}/photos.tmp`, `${f.src}/photos`);
        const back = await syncOk(f, ["--delete"]);
        assert.equal(back.json.moves, 4, show(back));
        await assertExactMirror(f.server, f);
      } finally {
        await f.cleanup();
      }
    });

    await t.step(
      "a folder renamed to a name that is not UTF-8 is reported, and --delete keeps its objects",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const files: Array<[string, string]> = [];
          for (let i = 0; i < 8; i++) files.push([`photos/summer/img_${i}.jpg`, `summer ${i}`]);
          for (let i = 0; i < 30; i++) files.push([`docs/doc_${i}.txt`, `document ${i}`]);
          await writeNamed(f.src, files);
          await syncOk(f);
          // What a Latin-1 client on the share does: "été" as bytes E9 74 E9.
          await renameBytes(`${f.src}/photos/summer`, latin1(`${f.src}/photos/été`));
          const run = await f.run("sync", ["--delete"]);
          await assertContentsKept(f, files, run);
          assert.equal(run.code, 3, `the skipped folder is reported: ${show(run)}`);
          assert.match(run.stderr, /UTF-8/);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "a file renamed to a name that is not UTF-8 is reported, and --delete keeps its object",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const files: Array<[string, string]> = [["a/caf.txt", "the only copy"]];
          for (let i = 0; i < 30; i++) files.push([`b/other_${i}.txt`, `other ${i}`]);
          await writeNamed(f.src, files);
          await syncOk(f);
          await renameBytes(`${f.src}/a/caf.txt`, latin1(`${f.src}/a/café.txt`));
          const run = await f.run("sync", ["--delete"]);
          assert.equal(run.code, 3, show(run));
          assert.match(run.stderr, /not valid UTF-8/);
          await assertContentsKept(f, files, run);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "a folder renamed so that its keys exceed 1024 bytes is reported, and --delete keeps its objects",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const long = ["x", "y", "z"].map((c) => c.repeat(250)).join("/") + "/" + "v".repeat(20);
          const files: Array<[string, string]> = [[`short/${long}/file.txt`, "deep content"]];
          for (let i = 0; i < 30; i++) files.push([`other/o_${i}.txt`, `other ${i}`]);
          await writeNamed(f.src, files);
          await syncOk(f);
          await assertExactMirror(moto, f);
          const renamed = "w".repeat(250);
          assert.ok(
            new TextEncoder().encode(`${f.prefix}${renamed}/${long}/file.txt`).length > 1024,
          );
          await Deno.rename(`${f.src}/short`, `${f.src}/${renamed}`);
          const run = await f.run("sync", ["--delete"]);
          assert.equal(run.code, 3, show(run));
          assert.match(run.stderr, /at most 1024 bytes/);
          await assertContentsKept(f, files, run);
        } finally {
          await f.cleanup();
        }
      },
    );

    await t.step(
      "a folder that cannot be read is reported, and --delete keeps its objects",
      async () => {
        const f = await Fixture.create(moto);
        const runner = await NonRootRunner.create(f);
        try {
          const files: Array<[string, string]> = [];
          for (let i = 0; i < 10; i++) files.push([`private/p${i}.txt`, `private ${i}`]);
          for (let i = 0; i < 30; i++) files.push([`public/q${i}.txt`, `public ${i}`]);
          await writeNamed(f.src, files);
          await runner.own();
          const first = await runner.run(["sync"]);
          assert.equal(first.code, 0, show(first));
          await assertExactMirror(moto, f);
          // Permissions changed on the share (or an I/O error): the folder cannot be listed.
          await Deno.chmod(`${f.src}/private`, 0o000);
          const run = await runner.run(["sync", "--delete"]);
          await Deno.chmod(`${f.src}/private`, 0o755);
          await assertContentsKept(f, files, run);
          assert.equal(run.code, 3, show(run));
          assert.match(run.stderr, /private/);
        } finally {
          await runner.cleanup();
          await f.cleanup();
        }
      },
    );

    await t.step(
      "files that vanish while the run uploads do not crash it, and a rerun converges",
      async () => {
        const f = await Fixture.create(moto);
        try {
          const count = 1500;
          const paths: string[] = [];
          for (let i = 0; i < count; i++) {
            const path = `d${i % 15}/file-${String(i).padStart(4, "0")}.dat`;
            paths.push(path);
          }
          const body = "x".repeat(2048);
          await writeNamed(f.src, paths.map((path, i) => [path, `${i} ${body}`]));
          // A big file too, uploaded in parts, replaced by a small one as the run goes.
          const big = new Uint8Array(17 * 1024 * 1024).fill(7);
          await Deno.writeFile(`${f.src}/big.bin`, big);

          const child = spawnCli(fixtureArgs(f, "sync", moto.endpoint, ["--verbose"]), {
            home: `${f.base}/home`,
          });
          let running = true;
          const done = child.result.finally(() => running = false);
          // Wait for the first upload to land, then delete files from the end of the
          // listing order (the last to be uploaded) while the run goes on.
          const deadline = Date.now() + 60_000;
          while (running && Date.now() < deadline && (await moto.list(f.bucket)).length === 0) {
            await sleep(20);
          }
          await Deno.writeFile(`${f.src}/big.bin`, new Uint8Array(1000).fill(8));
          let removed = 0;
          for (let i = count - 1; i >= 0 && running; i -= 2) {
            await Deno.remove(`${f.src}/${paths[i]}`);
            removed++;
            if (removed % 50 === 0) await sleep(1);
          }
          const result = await done;
          assert.equal(result.signal, null);
          const rerun = await f.run("sync", ["--delete"]);
          assert.equal(rerun.code, 0, show(rerun));
          await assertExactMirror(f.server, f);
          await assertStable(f);

          // The run itself: it ends normally with a summary and an exit code that says
          // what happened: 0 (a vanished file is no longer there to back up, as when it
          // vanishes before the scan) or 1 with a message, never a crash.
          assert.ok(result.json !== undefined, `a JSON summary is printed: ${show(result)}`);
          assert.ok(!/panicked|Uncaught|at async/.test(result.stderr), show(result));
          const brief = `exit code ${result.code}, ${result.json.errors} errors, first: ${
            JSON.stringify(result.json.failures.slice(0, 2))
          }`;
          assert.ok(result.code === 0 || result.code === 1, `exit code 0 or 1 expected: ${brief}`);
          if (result.code === 1) {
            assert.match(result.stderr, /Cannot upload|vanished|no longer exists|not found/i);
          }
        } finally {
          await f.cleanup();
        }
      },
    );
  } finally {
    await moto.stop();
  }
});
