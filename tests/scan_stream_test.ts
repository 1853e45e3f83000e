import assert from "node:assert/strict";
import type { LocalFile, ScanBatch } from "../lib/model.ts";
import { packBatch, transferablesOf, unpackBatch } from "../lib/scan/batch_pack.ts";
import type { FileStat, ScanFs } from "../lib/scan/scan_fs.ts";
import { startScan } from "../lib/scan/stream.ts";
import { scan } from "../lib/scan/walk.ts";

async function withTree(
  files: number,
  body: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-stream-" });
  try {
    for (let index = 0; index < files; index++) {
      const folder = `${dir}/album ${index % 7}/${index % 3 === 0 ? "raw" : "jpg"}`;
      Deno.mkdirSync(folder, { recursive: true });
      Deno.writeTextFileSync(`${folder}/IMG_${index}${index % 11 === 0 ? " 😀" : ""}.jpg`, "x");
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function collect(batches: AsyncIterable<ScanBatch>): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for await (const batch of batches) files.push(...batch.files);
  return files;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("startScan() delivers every file once, in key order, exactly as scan() finds them", async () => {
  await withTree(3000, async (dir) => {
    const expected = scan(dir);
    const stream = startScan(dir, { batchSize: 100 });
    assert.equal(stream.rootDev, expected.rootDev);
    const files = await collect(stream);
    assert.equal(files.length, 3000);
    assert.deepEqual(files, expected.files);
    assert.equal(stream.directories, expected.directories);
  });
});

Deno.test("startScan() keeps at most maxBatchesInFlight batches ahead of a slow consumer", async () => {
  await withTree(2000, async (dir) => {
    const stream = startScan(dir, { batchSize: 20, maxBatchesInFlight: 3 });
    let batches = 0;
    let mostWaiting = 0;
    for await (const batch of stream) {
      batches++;
      assert.ok(batch.files.length <= 20);
      await sleep(5); // a slow consumer: the worker has time to run ahead, if it could
      mostWaiting = Math.max(mostWaiting, stream.batchesWaiting);
    }
    assert.equal(batches, 100);
    assert.equal(mostWaiting, 3);
    assert.equal(stream.batchesWaiting, 0);
  });
});

Deno.test("startScan() rejects with NotFound for a missing root", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-stream-" });
  try {
    const stream = startScan(`${dir}/missing`);
    assert.ok(Number.isNaN(stream.rootDev));
    await assert.rejects(() => collect(stream), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cancel() stops the walk, and the iteration ends", async () => {
  await withTree(1000, async (dir) => {
    const stream = startScan(dir, { batchSize: 10, maxBatchesInFlight: 2 });
    let batches = 0;
    for await (const _ of stream) {
      batches++;
      if (batches === 2) stream.cancel();
    }
    assert.equal(batches, 2);
  });
});

Deno.test("startScan() stops its worker when the consumer leaves the loop early", async () => {
  await withTree(1000, async (dir) => {
    const stream = startScan(dir, { batchSize: 10 });
    for await (const batch of stream) {
      assert.equal(batch.files.length, 10);
      break;
    }
    // Iterating again finds the stream finished, not a worker still posting.
    assert.deepEqual(await collect(stream), []);
  });
});

Deno.test("startScan() walks on this thread when its worker cannot start", async () => {
  await withTree(300, async (dir) => {
    const broken = `${dir}/broken_worker.ts`;
    Deno.writeTextFileSync(broken, `throw new Error("this worker does not start");`);
    for (const workerUrl of [new URL(`file://${broken}`), new URL(`file://${dir}/missing.ts`)]) {
      const expected = scan(dir);
      const stream = startScan(dir, { batchSize: 50, workerUrl });
      assert.deepEqual(await collect(stream), expected.files, workerUrl.href);
      assert.equal(stream.directories, expected.directories);
    }
  });
});

Deno.test("startScan() with a fake file system walks on this thread and keeps 64-bit inodes", async () => {
  const stat = (isDirectory: boolean, ino: bigint): FileStat => ({
    isFile: !isDirectory,
    isDirectory,
    isSymlink: false,
    dev: 7,
    ino,
    size: 1,
    mtimeMs: 0,
    btimeMs: undefined,
  });
  const fs: ScanFs = {
    readDir: (path) =>
      path.replace(/\/$/, "") === "/nfs"
        ? ["b", "a"].map((name) => ({ name, isFile: true, isDirectory: false, isSymlink: false }))
        : [],
    lstat: (path) =>
      path === "/nfs/"
        ? stat(true, 2n)
        : stat(false, path.endsWith("a") ? 2n ** 64n - 1n : 2n ** 63n + 5n),
  };
  const stream = startScan("/nfs", { fs, batchSize: 1 });
  assert.equal(stream.rootDev, 7);
  const files = await collect(stream);
  assert.deepEqual(files.map((file) => [file.path, file.ino]), [
    ["a", 18446744073709551615n],
    ["b", 9223372036854775813n],
  ]);
  assert.equal(stream.directories, 1);
  assert.equal(stream.batchesWaiting, 0);
});

Deno.test("packBatch() and unpackBatch() keep 64-bit inodes, missing birth times and skipped entries", () => {
  const batch: ScanBatch = {
    files: [
      {
        path: "a/😀.jpg",
        dev: 2049,
        ino: 2n ** 64n - 1n,
        size: 2 ** 40,
        mtimeMs: -1234,
        btimeMs: 5,
      },
      { path: "b", dev: 2 ** 52, ino: 0n, size: 0, mtimeMs: 1.7e12, btimeMs: undefined },
    ],
    skipped: [{ path: "c", kind: "symlink", reason: "symbolic links are not followed" }],
  };
  const packed = packBatch(batch);
  assert.equal(transferablesOf(packed).length, 2);
  assert.deepEqual(unpackBatch(structuredClone(packed)), batch);
  assert.deepEqual(unpackBatch(packBatch({ files: [], skipped: [] })), { files: [], skipped: [] });
});

Deno.test("unpackBatch() gives each path a string of its own, so that a kept file does not keep its batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-stream-" });
  try {
    // Keeps one file of each of 200 batches of 4,000 (~30 MB of paths if slices kept them).
    Deno.writeTextFileSync(
      `${dir}/probe.ts`,
      `import { packBatch, unpackBatch } from ${
        JSON.stringify(new URL("../lib/scan/batch_pack.ts", import.meta.url).href)
      };
      const kept = [];
      for (let batch = 0; batch < 200; batch++) {
        const files = Array.from({ length: 4000 }, (_, index) => ({
          path: \`album-\${batch}/event \${index % 50}/IMG_\${String(index).padStart(5, "0")}.jpg\`,
          dev: 1, ino: BigInt(index), size: index, mtimeMs: 0, btimeMs: undefined,
        }));
        kept.push(unpackBatch(structuredClone(packBatch({ files, skipped: [] }))).files[7]);
      }
      globalThis.gc(); globalThis.gc();
      console.log(Deno.memoryUsage().heapUsed, kept.length);`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-config", "--v8-flags=--expose-gc", `${dir}/probe.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const [heapUsed, kept] = new TextDecoder().decode(output.stdout).trim().split(" ").map(Number);
    assert.equal(kept, 200);
    assert.ok(heapUsed! < 12 * 2 ** 20, `${(heapUsed! / 2 ** 20).toFixed(1)} MB of heap kept`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
