import assert from "node:assert/strict";
import { denoLstat, systemFs, systemLstatKind } from "../lib/scan/system_fs.ts";
import { loadStatx } from "../lib/scan/statx.ts";
import type { FileStat } from "../lib/scan/scan_fs.ts";

async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-system-fs-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("systemFs uses statx on Linux", () => {
  if (Deno.build.os !== "linux") return;
  assert.equal(systemLstatKind(), "statx");
  assert.ok(loadStatx() !== undefined);
});

Deno.test("systemFs.lstat() agrees with Deno.lstatSync on type, dev, size, mtime and birth time of 3,000 files written at different times", async () => {
  await withTempDir(async (dir) => {
    const paths: string[] = [];
    for (let folder = 0; folder < 30; folder++) {
      Deno.mkdirSync(`${dir}/folder ${folder}`);
      paths.push(`${dir}/folder ${folder}`);
      for (let index = 0; index < 100; index++) {
        const path = `${dir}/folder ${folder}/file ${index}.bin`;
        Deno.writeFileSync(path, new Uint8Array((folder * 100 + index) * 13 % 5000));
        paths.push(path);
      }
      // Later folders are written later: their times differ in the milliseconds.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    // Times with every kind of fraction, before the epoch, at it, and far ahead.
    const seconds = [-1.2345678, -0.0005, 0, 0.9999999, 1_600_000_000.123456, 4_102_444_800.5];
    paths.filter((path) => path.endsWith("0.bin")).forEach((path, index) => {
      const time = seconds[index % seconds.length]! + index / 7;
      Deno.utimeSync(path, time, time);
    });
    Deno.symlinkSync("folder 0/file 0.bin", `${dir}/link`);
    paths.push(`${dir}/link`);
    let compared = 0;
    for (const path of paths) {
      assert.deepEqual(systemFs.lstat(path), denoLstat(path), path);
      compared++;
    }
    assert.equal(compared, 3031);
    const mtimes = new Set(paths.map((path) => systemFs.lstat(path).mtimeMs));
    assert.ok(mtimes.size > 100, `only ${mtimes.size} different mtimes`);
    assert.ok(paths.some((path) => systemFs.lstat(path).mtimeMs < 0));
  });
});

Deno.test("systemFs.lstat() gives the device numbers Deno gives on other file systems", () => {
  const places = ["/", "/proc", "/proc/self", "/sys", "/dev", "/dev/shm", "/dev/pts", "/run"];
  for (const path of places) {
    let expected: FileStat;
    try {
      expected = denoLstat(path);
    } catch {
      continue; // not on this machine
    }
    const { dev, ino, isDirectory } = systemFs.lstat(path);
    assert.deepEqual({ dev, ino, isDirectory }, {
      dev: expected.dev,
      ino: expected.ino,
      isDirectory: expected.isDirectory,
    }, path);
  }
});

Deno.test("systemFs.lstat() of a path ending in '/' follows a link to a folder; without it, not", async () => {
  await withTempDir((dir) => {
    Deno.mkdirSync(`${dir}/real`);
    Deno.symlinkSync(`${dir}/real`, `${dir}/link`);
    assert.equal(systemFs.lstat(`${dir}/link`).isSymlink, true);
    assert.equal(systemFs.lstat(`${dir}/link/`).isDirectory, true);
    assert.equal(systemFs.lstat(`${dir}/link/`).ino, BigInt(Deno.statSync(`${dir}/real`).ino!));
  });
});

Deno.test("systemFs.lstat() throws NotFound for a missing path and for a path below a file", async () => {
  await withTempDir((dir) => {
    Deno.writeTextFileSync(`${dir}/file`, "f");
    assert.throws(() => systemFs.lstat(`${dir}/missing`), Deno.errors.NotFound);
    assert.throws(() => systemFs.lstat(`${dir}/file/below`), Deno.errors.NotFound);
    assert.throws(
      () => systemFs.lstat(`${dir}/missing`),
      (error: Error) =>
        error.message.includes(`"${dir}/missing"`) && /os error 2/.test(error.message),
    );
  });
});

Deno.test("systemFs.lstat() takes paths up to the kernel's limit and reports longer ones", async () => {
  await withTempDir((dir) => {
    Deno.writeTextFileSync(`${dir}/📷.jpg`, "photo");
    const bytes = (text: string) => new TextEncoder().encode(text).length;
    // "/." keeps the path valid however long: 4,095 bytes is the most the kernel takes.
    let longest = dir;
    while (bytes(longest) + bytes("/./📷.jpg") <= 4095) longest += "/.";
    longest += "/📷.jpg";
    assert.equal(systemFs.lstat(longest).size, 5);
    assert.equal(systemFs.lstat(`${dir}/📷.jpg`).size, 5); // the buffer is reused
    const tooLong = `${dir}/${"日本語/".repeat(500)}x`;
    assert.throws(() => systemFs.lstat(tooLong), /os error 36/);
    assert.throws(() => Deno.lstatSync(tooLong), /os error 36/);
    assert.equal(systemFs.lstat(`${dir}/📷.jpg`).size, 5);
  });
});

Deno.test("denoLstat() gives what systemFs gives, inode numbers below 2^53 included", async () => {
  await withTempDir((dir) => {
    Deno.writeTextFileSync(`${dir}/a`, "abc");
    assert.deepEqual(denoLstat(`${dir}/a`), systemFs.lstat(`${dir}/a`));
    assert.deepEqual(denoLstat(dir), systemFs.lstat(dir));
  });
});

Deno.test("systemFs falls back to Deno.lstatSync when FFI is not allowed, with the same results", async () => {
  await withTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/a`, "abc");
    const module = new URL("../lib/scan/system_fs.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      `${dir}/probe.ts`,
      `import { systemFs, systemLstatKind } from ${JSON.stringify(module)};
      const stat = systemFs.lstat(Deno.args[0]);
      console.log(JSON.stringify({ kind: systemLstatKind(), ...stat, ino: String(stat.ino) }));`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", `${dir}/probe.ts`, `${dir}/a`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const seen = JSON.parse(new TextDecoder().decode(output.stdout));
    const here = systemFs.lstat(`${dir}/a`);
    assert.deepEqual(seen, { kind: "Deno.lstatSync", ...here, ino: String(here.ino) });
  });
});
