/** Tests of the walk on an in-memory file system: what a real one cannot easily show. */
import assert from "node:assert/strict";
import type { FileStat, ScanDirEntry, ScanFs } from "../lib/scan/scan_fs.ts";
import { scan, walk } from "../lib/scan/walk.ts";
import type { ScanBatch } from "../lib/model.ts";

/** An in-memory tree: absolute paths without trailing "/" to what lstat says of them. */
class FakeFs implements ScanFs {
  readonly stats = new Map<string, FileStat>();
  readonly entries = new Map<string, ScanDirEntry[]>();
  readonly denied = new Set<string>();
  readonly reads: string[] = [];

  constructor(readonly root: string) {
    this.stats.set(root, FakeFs.stat("directory", 1n));
    this.entries.set(root, []);
  }

  static stat(type: "file" | "directory" | "symlink", ino: bigint, size = 0): FileStat {
    return {
      isFile: type === "file",
      isDirectory: type === "directory",
      isSymlink: type === "symlink",
      dev: 42,
      ino,
      size,
      mtimeMs: 1_700_000_000_000,
      btimeMs: undefined,
    };
  }

  add(path: string, stat: FileStat): this {
    const slash = path.lastIndexOf("/");
    const parent = slash < 0 ? this.root : `${this.root}/${path.slice(0, slash)}`;
    if (!this.entries.has(parent)) this.add(path.slice(0, slash), FakeFs.stat("directory", 0n));
    const { isFile, isDirectory, isSymlink } = stat;
    this.entries.get(parent)!.push({ name: path.slice(slash + 1), isFile, isDirectory, isSymlink });
    this.stats.set(`${this.root}/${path}`, stat);
    if (isDirectory) this.entries.set(`${this.root}/${path}`, []);
    return this;
  }

  readDir(path: string): Iterable<ScanDirEntry> {
    const key = path.replace(/\/$/, "");
    this.reads.push(key);
    if (this.denied.has(key)) throw new Deno.errors.PermissionDenied(`Permission denied: ${key}`);
    const entries = this.entries.get(key);
    if (entries === undefined) throw new Deno.errors.NotFound(`No such directory: ${key}`);
    return entries;
  }

  lstat(path: string): FileStat {
    const stat = this.stats.get(path.replace(/\/$/, ""));
    if (stat === undefined) throw new Deno.errors.NotFound(`No such file: ${path}`);
    return stat;
  }
}

Deno.test("walk() reports a folder it may not read and goes on with the rest", () => {
  const fs = new FakeFs("/fake")
    .add("a.txt", FakeFs.stat("file", 10n))
    .add("locked/hidden.txt", FakeFs.stat("file", 11n))
    .add("z.txt", FakeFs.stat("file", 12n));
  fs.denied.add("/fake/locked");
  const result = scan("/fake", { fs });
  assert.deepEqual(result.files.map((f) => f.path), ["a.txt", "z.txt"]);
  assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]), [["locked", "unreadable"]]);
  assert.match(result.skipped[0]!.reason, /^cannot read directory: Permission denied/);
  assert.equal(result.directories, 1);
});

Deno.test("walk() keeps 64-bit inode numbers exact and distinct", () => {
  const fs = new FakeFs("/nfs")
    .add("a", FakeFs.stat("file", 2n ** 63n + 5n))
    .add("b", FakeFs.stat("file", 2n ** 63n + 6n))
    .add("c/d", FakeFs.stat("file", 2n ** 64n - 1n));
  const files = scan("/nfs", { fs }).files;
  assert.deepEqual(files.map((f) => [f.path, f.ino]), [
    ["a", 9223372036854775813n],
    ["b", 9223372036854775814n],
    ["c/d", 18446744073709551615n],
  ]);
  // What a JavaScript number would have made of them:
  assert.equal(Number(files[0]!.ino), Number(files[1]!.ino));
});

Deno.test("walk() reads each folder only when it reaches it, so a first batch comes before the rest is read", () => {
  const fs = new FakeFs("/tree");
  for (const top of ["a", "b", "c"]) {
    for (let index = 0; index < 10; index++) {
      fs.add(`${top}/${index}.jpg`, FakeFs.stat("file", BigInt(index)));
    }
  }
  const batches = walk("/tree", { fs, batchSize: 10 });
  const first = batches.next().value as ScanBatch;
  assert.equal(first.files[0]!.path, "a/0.jpg");
  assert.deepEqual(fs.reads, ["/tree", "/tree/a"]);
  assert.deepEqual([...batches].map((batch) => batch.files[0]!.path), ["b/0.jpg", "c/0.jpg"]);
  assert.deepEqual(fs.reads, ["/tree", "/tree/a", "/tree/b", "/tree/c"]);
});

Deno.test("walk() descends 10,000 folders deep without recursion", () => {
  const fs = new FakeFs("/deep");
  const parts = Array.from({ length: 10_000 }, () => "d");
  let path = "";
  for (const part of parts) {
    path = path === "" ? part : `${path}/${part}`;
    fs.add(path, FakeFs.stat("directory", 1n));
  }
  fs.add(`${path}/leaf.txt`, FakeFs.stat("file", 7n, 3));
  const result = scan("/deep", { fs });
  assert.deepEqual(result.files.map((f) => f.path), [`${path}/leaf.txt`]);
  assert.equal(result.directories, 10_001);
});

Deno.test("walk() also ends a batch when it holds batchSize skipped entries", () => {
  const fs = new FakeFs("/links");
  for (let index = 0; index < 25; index++) {
    fs.add(`link ${String(index).padStart(2, "0")}`, FakeFs.stat("symlink", BigInt(index)));
  }
  fs.add("z.txt", FakeFs.stat("file", 99n));
  const batches = [...walk("/links", { fs, batchSize: 10 })];
  assert.deepEqual(batches.map((batch) => [batch.files.length, batch.skipped.length]), [
    [0, 10],
    [0, 10],
    [1, 5],
  ]);
});

Deno.test("walk() throws NotADirectory for a root that is not a folder", () => {
  const fs = new FakeFs("/fake").add("file", FakeFs.stat("file", 2n));
  assert.throws(() => scan("/fake/file", { fs }), Deno.errors.NotADirectory);
});
