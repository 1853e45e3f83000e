import assert from "node:assert/strict";
import type { ScanFs } from "../lib/scan/scan_fs.ts";
import { sortKeys } from "../lib/scan/key_order.ts";
import { systemFs } from "../lib/scan/system_fs.ts";
import { scan, walk } from "../lib/scan/walk.ts";
import type { LocalFile } from "../lib/model.ts";

async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-walk-" });
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

Deno.test("walk() yields the files of a nasty tree in exactly the order compareKeys sorts their paths", async () => {
  await withTempDir((dir) => {
    const paths = [
      "a.txt",
      "a-",
      "a.",
      "a0",
      "a b",
      "A",
      "B",
      "b",
      "Readme",
      "readme",
      "README",
      "a/b",
      "a/b.txt",
      "a/b-c",
      "a/b0",
      "a/c/d",
      "a/c.d/e",
      "a/c-d/f",
      "a/c d/g",
      "a-b/x",
      "a.b/y",
      "a0b/z",
      "caf\u00e9", // é composed (NFC)
      "cafe\u0301", // é decomposed (NFD): a different file
      "\u00e9/nfc",
      "e\u0301/nfd",
      "日本/写真.jpg",
      "日本.txt",
      "日本-/x",
      "📷/😀.jpg",
      "📷.txt",
      "📷/\uE000",
      "\uE000",
      "\uE001/z",
      "\uFFFC",
      "😀",
      "😀x/y",
      "\u{10000}",
      "with space/inner file",
      "with space.txt",
      "-dash",
      ".hidden",
      "..dots",
      "~tilde",
      "z/1/2/3/4/5/deep.txt",
      "n/\uE000",
      "n/😀",
      "n/a/a",
      "n/a.txt",
      "n/a0",
    ];
    paths.forEach((path, index) => write(dir, path, "z".repeat(index)));
    const expected = sortKeys([...paths]);
    // The tree is only nasty if JavaScript's own order would get it wrong.
    assert.notDeepEqual([...paths].sort(), expected);
    const batches = [...walk(dir, { batchSize: 7 })];
    const files = batches.flatMap((batch) => batch.files);
    assert.deepEqual(files.map((file) => file.path), expected);
    assert.ok(batches.slice(0, -1).every((batch) => batch.files.length === 7));
    assert.deepEqual(batches.flatMap((batch) => batch.skipped), []);
    const sizes = byPath(files);
    paths.forEach((path, index) => assert.equal(sizes.get(path)!.size, index, path));
  });
});

Deno.test("scan() returns relative '/' paths, sizes, inodes and mtimes as lstat sees them", async () => {
  await withTempDir((dir) => {
    write(dir, "a.txt", "hello");
    write(dir, "d1/b.bin", "12345678");
    write(dir, "d1/d2/d3/c", "");
    Deno.utimeSync(`${dir}/a.txt`, 1_600_000_000, 1_600_000_123.5);
    const result = scan(dir);
    assert.deepEqual(result.files.map((f) => f.path), ["a.txt", "d1/b.bin", "d1/d2/d3/c"]);
    for (const file of result.files) {
      const info = Deno.lstatSync(`${dir}/${file.path}`);
      assert.equal(file.ino, BigInt(info.ino!), file.path);
      assert.equal(file.dev, info.dev, file.path);
      assert.equal(file.size, info.size, file.path);
      assert.equal(file.mtimeMs, info.mtime!.getTime(), file.path);
      assert.equal(file.btimeMs, info.birthtime?.getTime(), file.path);
    }
    assert.equal(byPath(result.files).get("a.txt")!.mtimeMs, 1_600_000_123_500);
    assert.equal(result.rootDev, Deno.statSync(dir).dev);
    assert.equal(result.directories, 4);
    assert.deepEqual(result.skipped, []);
  });
});

Deno.test("scan() accepts a root with a trailing slash, or a link to the root, and finds an empty tree", async () => {
  await withTempDir((dir) => {
    Deno.mkdirSync(`${dir}/tree/empty/deeper`, { recursive: true });
    write(dir, "tree/f", "1");
    Deno.symlinkSync(`${dir}/tree`, `${dir}/link`);
    for (const root of [`${dir}/tree/`, `${dir}/link`, `${dir}/link/`]) {
      const result = scan(root);
      assert.deepEqual(result.files.map((f) => f.path), ["f"], root);
      assert.equal(result.directories, 3, root);
      assert.equal(result.rootDev, Deno.statSync(dir).dev, root);
    }
    assert.deepEqual(scan(`${dir}/tree/empty`).files, []);
    assert.deepEqual([...walk(`${dir}/tree/empty`)], []);
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

Deno.test("walk() reports symbolic links as skipped and does not follow them", async () => {
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
      assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]), [
        ["a-link", "symlink"],
        ["b-link", "symlink"],
        ["dangling", "symlink"],
        ["file-link", "symlink"],
        ["real/loop", "symlink"],
        ["to-outside", "symlink"],
      ]);
      assert.ok(result.skipped.every((s) => s.reason === "symbolic links are not followed"));
      assert.equal(result.directories, 2);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("walk() skips a FIFO as a special file without blocking on it", async () => {
  await withTempDir(async (dir) => {
    write(dir, "plain", "p");
    Deno.mkdirSync(`${dir}/sub`);
    const made = await new Deno.Command("mkfifo", { args: [`${dir}/sub/pipe`] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const result = scan(dir);
    assert.deepEqual(result.files.map((f) => f.path), ["plain"]);
    assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]), [["sub/pipe", "special"]]);
    assert.match(result.skipped[0]!.reason, /not a regular file/);
  });
});

Deno.test("walk() reports names that are not UTF-8 as invalid, once each, and walks the rest", async () => {
  await withTempDir(async (dir) => {
    // Deno reads these names lossily, with U+FFFD; "good\uFFFD.txt" also exists for real.
    const python = `
import os, sys
root = sys.argv[1].encode()
def make(name, body=b"x"):
    with open(root + b"/" + name, "wb") as f: f.write(body)
make(b"bad\\xff.txt")
os.mkdir(root + b"/bad folder\\xfe")
make(b"bad folder\\xfe/inside.txt")
make(b"good\\xef\\xbf\\xbd.txt", b"valid")
make(b"good\\xff.txt", b"invalid")
make(b"ok.txt")
`;
    const made = await new Deno.Command("python3", { args: ["-c", python, dir] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const result = scan(dir);
    assert.deepEqual(result.files.map((f) => [f.path, f.size]), [
      ["good\uFFFD.txt", 5],
      ["ok.txt", 1],
    ]);
    assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]).sort(), [
      ["bad folder\uFFFD", "invalid name"],
      ["bad\uFFFD.txt", "invalid name"],
      ["good\uFFFD.txt", "invalid name"],
    ]);
    assert.ok(result.skipped.every((s) => /not valid UTF-8/.test(s.reason)));
  });
});

Deno.test("walk() reports a folder renamed during the walk as vanished and leaves out a deleted file", async () => {
  await withTempDir((dir) => {
    write(dir, "a.txt", "a");
    write(dir, "b/inside.txt", "b");
    write(dir, "c.txt", "c");
    // Once the root is read, "a.txt" is statted first: that is when the tree changes. The
    // reader's own stats are dropped, so that the walk stats each file as it reaches it.
    const changing: ScanFs = {
      readDir: (path) => Array.from(systemFs.readDir(path), ({ stat: _, ...entry }) => entry),
      lstat(path) {
        if (path.endsWith("/a.txt")) {
          Deno.renameSync(`${dir}/b`, `${dir}/renamed`);
          Deno.removeSync(`${dir}/c.txt`);
        }
        return systemFs.lstat(path);
      },
    };
    const result = scan(dir, { fs: changing });
    assert.deepEqual(result.files.map((f) => f.path), ["a.txt"]);
    assert.deepEqual(result.skipped, [{
      path: "b",
      kind: "vanished",
      reason: "folder renamed or deleted during the scan; the next run sees it",
    }]);
  });
});

Deno.test("walk() yields full batches of the given size and the rest in the last", async () => {
  await withTempDir((dir) => {
    for (let index = 0; index < 25; index++) write(dir, `f${String(index).padStart(2, "0")}`);
    const sizes = [...walk(dir, { batchSize: 10 })].map((batch) => batch.files.length);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.throws(() => walk(dir, { batchSize: 0 }).next(), RangeError);
  });
});

Deno.test("walk() throws NotFound for a missing root, and for a root that is a file", async () => {
  await withTempDir((dir) => {
    write(dir, "file", "f");
    assert.throws(() => scan(`${dir}/nope`), Deno.errors.NotFound);
    assert.throws(() => scan(`${dir}/file`), Deno.errors.NotFound);
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
      "back\\slash",
    ];
    names.forEach((name, i) => write(dir, name, "z".repeat(i)));
    const files = byPath(scan(dir).files);
    assert.deepEqual([...files.keys()], sortKeys([...names]));
    names.forEach((name, i) => assert.equal(files.get(name)!.size, i, name));
  });
});
