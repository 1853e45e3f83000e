import assert from "node:assert/strict";
import { loadDirReader } from "../lib/scan/dirents.ts";
import { denoLstat, systemFs } from "../lib/scan/system_fs.ts";
import type { ScanDirEntry } from "../lib/scan/scan_fs.ts";

async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-dirents-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stderr: "piped" }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
}

const byName = (a: ScanDirEntry, b: ScanDirEntry) => a.name < b.name ? -1 : 1;

Deno.test("loadDirReader() is available on Linux with FFI", () => {
  if (Deno.build.os !== "linux") return;
  assert.ok(loadDirReader() !== undefined);
});

Deno.test("the getdents64 reader gives what Deno.readDirSync and lstat give, files with their stat", async () => {
  const read = loadDirReader();
  if (read === undefined) return;
  await withTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/a.txt`, "abc");
    Deno.writeTextFileSync(`${dir}/.hidden`, "h");
    Deno.writeTextFileSync(`${dir}/📷 été.jpg`, "photo");
    Deno.writeTextFileSync(`${dir}/..x`, "dots");
    Deno.mkdirSync(`${dir}/sub`);
    Deno.symlinkSync("a.txt", `${dir}/link`);
    Deno.symlinkSync("sub", `${dir}/dirlink`);
    await run("mkfifo", [`${dir}/pipe`]);
    // More entries than one getdents64 call returns.
    Deno.mkdirSync(`${dir}/many`);
    for (let index = 0; index < 3000; index++) {
      Deno.writeTextFileSync(`${dir}/many/${"n".repeat(40)}${index}`, String(index));
    }
    for (const folder of [dir, `${dir}/many`]) {
      const fast = read(folder).sort(byName);
      const deno = [...Deno.readDirSync(folder)].sort(byName);
      assert.deepEqual(
        fast.map(({ name, isFile, isDirectory, isSymlink }) => ({
          name,
          isFile,
          isDirectory,
          isSymlink,
        })),
        deno.map(({ name, isFile, isDirectory, isSymlink }) => ({
          name,
          isFile,
          isDirectory,
          isSymlink,
        })),
      );
      for (const entry of fast) {
        if (entry.isFile) assert.deepEqual(entry.stat, denoLstat(`${folder}/${entry.name}`));
        else assert.equal(entry.stat, undefined, entry.name);
        assert.equal(entry.notUtf8, undefined);
      }
    }
  });
});

Deno.test("the getdents64 reader flags names that are not UTF-8, and keeps a real U+FFFD", async () => {
  const read = loadDirReader();
  if (read === undefined) return;
  await withTempDir(async (dir) => {
    await run("python3", [
      "-c",
      `import os, sys
root = sys.argv[1].encode()
for name in [b"bad\\xff.txt", b"good\\xef\\xbf\\xbd.txt", b"\\xc3\\x28"]:
    open(root + b"/" + name, "wb").write(b"x")
os.mkdir(root + b"/folder\\xfe")`,
      dir,
    ]);
    const entries = read(dir).sort(byName);
    assert.deepEqual(entries.map((entry) => [entry.name, entry.notUtf8 ?? false]), [
      ["bad\uFFFD.txt", true],
      ["folder\uFFFD", true],
      ["good\uFFFD.txt", false],
      ["\uFFFD(", true],
    ]);
    // Flagged names are still read exactly: the stat is the file's own.
    assert.equal(entries[0]!.stat?.size, 1);
    assert.equal(entries[1]!.isDirectory, true);
  });
});

Deno.test("the getdents64 reader throws as Deno.readDirSync does", async () => {
  const read = loadDirReader();
  if (read === undefined) return;
  await withTempDir((dir) => {
    Deno.writeTextFileSync(`${dir}/file`, "f");
    assert.throws(() => read(`${dir}/missing`), Deno.errors.NotFound);
    assert.throws(() => read(`${dir}/file`), Deno.errors.NotADirectory);
    assert.throws(() => read(`${dir}/file/below`), Deno.errors.NotADirectory);
    assert.throws(() => read(`${dir}/missing`), /No such file or directory \(os error 2\)/);
  });
});

Deno.test("systemFs.readDir() gives each file's stat, which the walk then uses", async () => {
  await withTempDir((dir) => {
    Deno.writeTextFileSync(`${dir}/a`, "abc");
    const [entry] = [...systemFs.readDir(dir)];
    if (Deno.build.os === "linux") assert.deepEqual(entry!.stat, systemFs.lstat(`${dir}/a`));
  });
});
