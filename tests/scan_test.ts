import assert from "node:assert/strict";
import { scan } from "../lib/scan/scan.ts";
import { type LocalFile } from "../lib/model.ts";

async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-scan-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function write(root: string, path: string, content = "x"): void {
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(`${root}/${path.slice(0, slash)}`, { recursive: true });
  Deno.writeTextFileSync(`${root}/${path}`, content);
}

function byPath(files: LocalFile[]): Map<string, LocalFile> {
  return new Map(files.map((file) => [file.path, file]));
}

Deno.test("scan() returns relative '/' paths, sizes, inodes and mtimes as lstat sees them", async () => {
  await withTempDir((dir) => {
    write(dir, "a.txt", "hello");
    write(dir, "d1/b.bin", "12345678");
    write(dir, "d1/d2/d3/c", "");
    Deno.utimeSync(`${dir}/a.txt`, 1_600_000_000, 1_600_000_123.5);
    const result = scan(dir);
    const files = byPath(result.files);
    assert.deepEqual([...files.keys()].sort(), ["a.txt", "d1/b.bin", "d1/d2/d3/c"]);
    for (const [path, file] of files) {
      const info = Deno.lstatSync(`${dir}/${path}`);
      assert.equal(file.ino, info.ino, path);
      assert.equal(file.dev, info.dev, path);
      assert.equal(file.size, info.size, path);
      assert.equal(file.mtimeMs, info.mtime!.getTime(), path);
    }
    assert.equal(files.get("a.txt")!.size, 5);
    assert.equal(files.get("d1/b.bin")!.size, 8);
    assert.equal(files.get("d1/d2/d3/c")!.size, 0);
    assert.equal(files.get("a.txt")!.mtimeMs, 1_600_000_123_500);
    assert.equal(new Set(result.files.map((f) => f.ino)).size, 3);
    assert.equal(result.rootDev, Deno.statSync(dir).dev);
    assert.equal(result.directories, 4);
    assert.deepEqual(result.skipped, []);
  });
});

Deno.test("scan() accepts a root given with a trailing slash and finds an empty tree", async () => {
  await withTempDir((dir) => {
    Deno.mkdirSync(`${dir}/empty/deeper`, { recursive: true });
    write(dir, "f", "1");
    const result = scan(`${dir}/`);
    assert.deepEqual(result.files.map((f) => f.path), ["f"]);
    assert.equal(result.directories, 3);
  });
});

Deno.test("scan() reports two names of one hard-linked file with the same inode", async () => {
  await withTempDir((dir) => {
    write(dir, "a", "data");
    Deno.linkSync(`${dir}/a`, `${dir}/b`);
    const files = byPath(scan(dir).files);
    assert.equal(files.get("a")!.ino, files.get("b")!.ino);
  });
});

Deno.test("scan() reports symbolic links as skipped and does not follow them", async () => {
  await withTempDir(async (dir) => {
    const outside = await Deno.makeTempDir({ prefix: "s3ss-outside-" });
    try {
      write(outside, "secret.txt", "s");
      write(dir, "real/file.txt", "f");
      Deno.symlinkSync(outside, `${dir}/to-outside`);
      Deno.symlinkSync(`${dir}/real/file.txt`, `${dir}/file-link`);
      Deno.symlinkSync("..", `${dir}/real/loop`); // a directory loop
      Deno.symlinkSync("b-link", `${dir}/a-link`); // a link loop
      Deno.symlinkSync("a-link", `${dir}/b-link`);
      Deno.symlinkSync("missing", `${dir}/dangling`);
      const result = scan(dir);
      assert.deepEqual(result.files.map((f) => f.path), ["real/file.txt"]);
      assert.deepEqual(
        result.skipped.map((s) => [s.path, s.kind]).sort(),
        [
          ["a-link", "symlink"],
          ["b-link", "symlink"],
          ["dangling", "symlink"],
          ["file-link", "symlink"],
          ["real/loop", "symlink"],
          ["to-outside", "symlink"],
        ],
      );
      assert.ok(result.skipped.every((s) => s.reason.length > 0));
      assert.equal(result.directories, 2);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("scan() skips a FIFO as a special file without blocking on it", async () => {
  await withTempDir(async (dir) => {
    write(dir, "plain", "p");
    Deno.mkdirSync(`${dir}/sub`);
    const made = await new Deno.Command("mkfifo", { args: [`${dir}/sub/pipe`] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const result = scan(dir);
    assert.deepEqual(result.files.map((f) => f.path), ["plain"]);
    assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]), [["sub/pipe", "special"]]);
  });
});

Deno.test("scan() reports an unreadable directory and goes on with the rest", async () => {
  await withTempDir((dir) => {
    write(dir, "ok/a.txt", "a");
    write(dir, "locked/hidden.txt", "h");
    Deno.chmodSync(`${dir}/locked`, 0o000);
    try {
      let readable = true;
      try {
        Array.from(Deno.readDirSync(`${dir}/locked`));
      } catch {
        readable = false;
      }
      const result = scan(dir);
      assert.ok(result.files.some((f) => f.path === "ok/a.txt"));
      if (readable) {
        console.log("  (running as root: chmod 000 does not deny reads; unreadable check skipped)");
        return;
      }
      assert.deepEqual(result.files.map((f) => f.path), ["ok/a.txt"]);
      assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]), [["locked", "unreadable"]]);
      assert.match(result.skipped[0]!.reason, /cannot read directory/);
    } finally {
      Deno.chmodSync(`${dir}/locked`, 0o755);
    }
  });
});

Deno.test("scan() keeps unusual file names exactly as named on disk", async () => {
  await withTempDir((dir) => {
    const names = [
      "with space.txt",
      "new\nline.txt",
      "100%.txt",
      "a+b.txt",
      "été/日本語 ファイル.jpg",
      "cafe\u0301.txt", // decomposed: the scan does not normalise
      "#hash?&=.txt",
      "dir with space/tab\tname",
    ];
    names.forEach((name, i) => write(dir, name, "z".repeat(i)));
    const files = byPath(scan(dir).files);
    assert.deepEqual([...files.keys()].sort(), [...names].sort());
    names.forEach((name, i) => assert.equal(files.get(name)!.size, i, name));
  });
});

Deno.test("scan() throws NotFound for a missing root", async () => {
  await withTempDir((dir) => {
    assert.throws(() => scan(`${dir}/nope`), Deno.errors.NotFound);
  });
});
