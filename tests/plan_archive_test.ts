/** The planner's rules for archived objects: deferred moves and the uploads that wait. */
import assert from "node:assert/strict";
import type { PlanOptions } from "../lib/plan/plan.ts";
import { runPlan, type TestPlan } from "./helpers/plan_run.ts";
import type { FileRecord, LocalFile, RemoteEntry } from "../lib/model.ts";

const T = 1_700_000_000_000;
const DEV = 7;

function file(path: string, ino: number, size = 100, mtimeMs = T): LocalFile {
  return { path, dev: DEV, ino: BigInt(ino), size, mtimeMs };
}

function rec(path: string, ino: number, size = 100): FileRecord {
  return { path, dev: DEV, ino: BigInt(ino), size, mtimeMs: T, inS3: true };
}

function obj(storageClass?: string, extra: Partial<RemoteEntry> = {}): RemoteEntry {
  return { size: 100, lastModifiedMs: T + 1000, etag: '"e"', storageClass, ...extra };
}

const DEFAULT_OPTIONS: PlanOptions = { mode: "sync", deleteRemote: true };

function run(
  previous: FileRecord[],
  local: LocalFile[],
  remote: Record<string, RemoteEntry>,
  options: PlanOptions = DEFAULT_OPTIONS,
): Promise<TestPlan> {
  return runPlan(previous, local, remote, options);
}

for (const storageClass of ["GLACIER", "DEEP_ARCHIVE"]) {
  Deno.test(`plan() defers a move whose source is in ${storageClass}, uploading and deleting nothing`, async () => {
    const result = await run([rec("a.jpg", 1)], [file("b.jpg", 1)], { "a.jpg": obj(storageClass) });
    assert.deepEqual(result.moves, []);
    assert.deepEqual(result.uploads, []);
    assert.deepEqual(result.deletes, []);
    assert.equal(result.deferred.length, 1);
    assert.deepEqual(
      { ...result.deferred[0]!, reason: undefined },
      { from: "a.jpg", to: "b.jpg", size: 100, storageClass, reason: undefined },
    );
    assert.match(result.deferred[0]!.reason, new RegExp(`${storageClass}.*restored`));
    assert.deepEqual(result.record.forget, [], "the archived source's row is kept");
  });
}

Deno.test("plan() moves an archived source once it is known to be restored, keeping its class", async () => {
  const result = await run([rec("a.jpg", 1)], [file("b.jpg", 1)], {
    "a.jpg": obj("DEEP_ARCHIVE", { restored: true }),
  });
  assert.deepEqual(result.deferred, []);
  assert.equal(result.moves.length, 1);
  assert.equal(result.moves[0]!.storageClass, "DEEP_ARCHIVE");
});

Deno.test("plan() does not defer GLACIER_IR, STANDARD_IA or Intelligent-Tiering sources from a listing", async () => {
  for (const storageClass of ["GLACIER_IR", "STANDARD_IA", "INTELLIGENT_TIERING", undefined]) {
    const result = await run([rec("a", 1)], [file("b", 1)], { a: obj(storageClass) });
    assert.equal(result.moves.length, 1, String(storageClass));
    assert.deepEqual(result.deferred, []);
  }
});

Deno.test("plan() defers a move that needs the source key of a deferred move vacated", async () => {
  // mv b c; mv a b — where b's object is archived: a→b must not overwrite it.
  const result = await run(
    [rec("a", 1), rec("b", 2)],
    [file("b", 1), file("c", 2)],
    { a: obj(), b: obj("DEEP_ARCHIVE") },
  );
  assert.deepEqual(result.moves, []);
  assert.deepEqual(result.deferred.map((move) => `${move.from}→${move.to}`).sort(), [
    "a→b",
    "b→c",
  ]);
  assert.match(result.deferred.find((move) => move.from === "a")!.reason, /waits for/);
  assert.deepEqual(result.uploads, []);
});

Deno.test("plan() holds back an upload to the key of an archived source that is still needed", async () => {
  // mv a.jpg b.jpg; then a new a.jpg appears: uploading it would overwrite the archive.
  const result = await run(
    [rec("a.jpg", 1)],
    [file("b.jpg", 1), file("a.jpg", 9, 50)],
    { "a.jpg": obj("GLACIER") },
  );
  assert.deepEqual(result.uploads, []);
  assert.deepEqual(result.waiting.map((upload) => upload.key), ["a.jpg"]);
  assert.equal(result.deferred.length, 1);
});

Deno.test("plan() in moves mode records nothing at a key whose row is a move source", async () => {
  const result = await run(
    [rec("a.jpg", 1)],
    [file("b.jpg", 1), file("a.jpg", 9, 50)],
    { "a.jpg": obj() },
    { mode: "moves" },
  );
  assert.equal(result.moves.length, 1);
  assert.deepEqual(result.record.upsert, []);
});

Deno.test("plan() drops a deferral when the renamed file was changed: upload, old key deleted", async () => {
  const result = await run([rec("a.jpg", 1)], [file("b.jpg", 1, 100, T + 5000)], {
    "a.jpg": obj("DEEP_ARCHIVE"),
  });
  assert.deepEqual(result.deferred, []);
  assert.deepEqual(result.uploads.map((upload) => upload.key), ["b.jpg"]);
  assert.deepEqual(result.deletes.map((del) => del.key), ["a.jpg"]);
});

Deno.test("plan() does not take a new file on a reused inode for a rename when birth times differ", async () => {
  const previous = [{ ...rec("old.txt", 5), btimeMs: T - 50_000 }];
  const reused = { ...file("new.txt", 5), btimeMs: T + 1 };
  const result = await run(previous, [reused], { "old.txt": obj() });
  assert.deepEqual(result.moves, []);
  assert.deepEqual(result.uploads.map((upload) => upload.key), ["new.txt"]);
  assert.deepEqual(result.deletes.map((del) => del.key), ["old.txt"]);
  const renamed = await run(previous, [{ ...file("new.txt", 5), btimeMs: T - 50_000 }], {
    "old.txt": obj(),
  });
  assert.equal(renamed.moves.length, 1, "a renamed file keeps its birth time");
  const unknown = await run([rec("old.txt", 5)], [reused], { "old.txt": obj() });
  assert.equal(unknown.moves.length, 1, "rows written before birth times were kept still match");
});

Deno.test("plan() uploads a file replaced at the same path with the same size and mtime (cp -p)", async () => {
  const previous = [{ ...rec("a.txt", 5), btimeMs: T - 50_000 }];
  const replaced = { ...file("a.txt", 6), btimeMs: T + 7 };
  const result = await run(previous, [replaced], { "a.txt": obj() });
  assert.deepEqual(result.uploads.map((upload) => `${upload.key}:${upload.reason}`), [
    "a.txt:changed",
  ]);
  const remounted = await run(previous, [{ ...file("a.txt", 6), btimeMs: T - 50_000 }], {
    "a.txt": obj(),
  });
  assert.deepEqual(remounted.uploads, [], "a remount changes the inode, not the birth time");
  assert.equal(remounted.inodeUpdates, 1);
});
