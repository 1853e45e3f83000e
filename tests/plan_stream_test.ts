/**
 * The streaming planner: the merge of three sorted streams keeps only what a rename may
 * explain, runs that trust the state plan from the rows alone, rows of moves whose copy
 * is recorded finish their delete, and inode numbers stay exact.
 */
import assert from "node:assert/strict";
import type { FileRecord, LocalFile, RemoteEntry } from "../lib/model.ts";
import { plan } from "../lib/plan/plan.ts";
import { runPlan } from "./helpers/plan_run.ts";

const T = 1_700_000_000_000;
const DEV = 2049;

function file(path: string, ino: bigint | number, size = 100): LocalFile {
  return { path, dev: DEV, ino: BigInt(ino), size, mtimeMs: T };
}

function rec(path: string, ino: bigint | number, extra: Partial<FileRecord> = {}): FileRecord {
  return {
    path,
    dev: DEV,
    ino: BigInt(ino),
    size: 100,
    mtimeMs: T,
    inS3: true,
    etag: `"etag-${path}"`,
    storageClass: "STANDARD",
    sse: "",
    ...extra,
  };
}

function obj(etag?: string, extra: Partial<RemoteEntry> = {}): RemoteEntry {
  return { size: 100, lastModifiedMs: T + 60_000, etag, ...extra };
}

Deno.test("the merge keeps nothing for matching when nothing changed", async () => {
  const names = ["a.txt", "a/b", "a0", "a-", "A", "é", "e\u0301", "日本/x", "😀", "\uE000"];
  const previous = new Map(names.map((name, index) => [name, rec(name, index + 1)]));
  const local = names.map((name, index) => file(name, index + 1));
  const remote = new Map(names.map((name) => [name, obj(`"etag-${name}"`)]));
  const result = await plan({ previous, local, remote }, { mode: "sync", deleteRemote: true });
  assert.equal(result.plan.unchanged, names.length, "every key lines up across the streams");
  assert.equal(result.classification.displaced.length, 0);
  assert.equal(result.classification.candidates.length, 0);
  assert.deepEqual(result.written, []);
  assert.equal(result.uploads.count, 0);
});

Deno.test("a new file whose inode no row knows is decided at once, not kept", async () => {
  const result = await plan({
    previous: new Map([["old.jpg", rec("old.jpg", 1)]]),
    local: [file("old.jpg", 1), file("new.jpg", 2)],
    remote: new Map([["old.jpg", obj('"etag-old.jpg"')]]),
  }, { mode: "sync" });
  assert.equal(result.classification.candidates.length, 0);
  assert.deepEqual(result.uploads.actions.map((action) => action.key), ["new.jpg"]);
});

Deno.test("trusting the state, rows stand for their objects: unchanged, moved, deleted", async () => {
  const previous = [rec("keep.jpg", 1), rec("old.jpg", 2), rec("gone.jpg", 3)];
  const result = await runPlan(previous, [file("keep.jpg", 1), file("new.jpg", 2)], undefined, {
    mode: "sync",
    deleteRemote: true,
  });
  assert.equal(result.unchanged, 1);
  assert.deepEqual(result.moves.map((move) => [move.from, move.to, move.etag]), [
    ["old.jpg", "new.jpg", '"etag-old.jpg"'],
  ]);
  assert.equal(result.moves[0]!.storageClass, "STANDARD");
  assert.equal(result.moves[0]!.sse, "");
  assert.deepEqual(result.deletes.map((action) => action.key), ["gone.jpg"]);
});

Deno.test("trusting the state, a row that does not know its class makes the copy ask", async () => {
  const result = await runPlan(
    [rec("old.jpg", 2, { storageClass: undefined, sse: undefined })],
    [file("new.jpg", 2)],
    undefined,
  );
  assert.equal(result.moves.length, 1);
  assert.equal(result.moves[0]!.storageClass, undefined, "unknown, not STANDARD");
  assert.equal(result.moves[0]!.sse, undefined);
});

Deno.test("trusting the state, recorded archive classes defer moves", async () => {
  const result = await runPlan(
    [rec("old.jpg", 2, { storageClass: "DEEP_ARCHIVE" })],
    [file("new.jpg", 2)],
    undefined,
  );
  assert.deepEqual(result.moves, []);
  assert.equal(result.deferred[0]?.storageClass, "DEEP_ARCHIVE");
});

Deno.test("a row whose copy is recorded finishes its delete, unless a file is there again", async () => {
  const moved = rec("a.jpg", 1, { movedTo: "b.jpg" });
  const done = await runPlan([moved, rec("b.jpg", 1)], [file("b.jpg", 1)], {
    "a.jpg": obj('"etag-a.jpg"'),
    "b.jpg": obj('"etag-b.jpg"'),
  });
  assert.deepEqual(done.deletes.map((action) => [action.key, action.temporary]), [["a.jpg", true]]);
  assert.equal(done.unchanged, 1);

  const alreadyGone = await runPlan([moved, rec("b.jpg", 1)], [file("b.jpg", 1)], {
    "b.jpg": obj('"etag-b.jpg"'),
  });
  assert.deepEqual(alreadyGone.deletes, []);
  assert.deepEqual(alreadyGone.record.forget, ["a.jpg"]);

  const overwritten = await runPlan([moved, rec("b.jpg", 1)], [file("b.jpg", 1)], {
    "a.jpg": obj('"someone-else"'),
    "b.jpg": obj('"etag-b.jpg"'),
  });
  assert.deepEqual(overwritten.deletes, [], "an object someone else put there is kept");

  const fileAgain = await runPlan([moved, rec("b.jpg", 1)], [file("a.jpg", 9), file("b.jpg", 1)], {
    "a.jpg": obj('"etag-a.jpg"'),
    "b.jpg": obj('"etag-b.jpg"'),
  }, { mode: "sync", deleteRemote: true });
  assert.deepEqual(fileAgain.deletes, []);
  assert.deepEqual(fileAgain.uploads.map((action) => [action.key, action.reason]), [[
    "a.jpg",
    "new",
  ]]);
});

Deno.test("64-bit inodes stay exact: neighbours above 2^53 are never taken for each other", async () => {
  const high = 2n ** 63n + 5n;
  const next = 2n ** 63n + 6n;
  assert.equal(Number(high), Number(next), "as JS numbers both round to 2^63: they collide");
  const result = await runPlan(
    [rec("a.jpg", high)],
    [file("b.jpg", next), file("c.jpg", high)],
    { "a.jpg": obj('"etag-a.jpg"') },
  );
  assert.deepEqual(result.moves.map((move) => `${move.from}→${move.to}`), ["a.jpg→c.jpg"]);
  assert.deepEqual(result.uploads.map((action) => action.key), ["b.jpg"]);
  const top = 2n ** 64n - 1n;
  const same = await runPlan([rec("x", top)], [file("x", top)], { x: obj('"etag-x"') });
  assert.equal(same.unchanged, 1);
});

Deno.test("a move keeps its source key when that key gets new content in the same run", async () => {
  const swap = await runPlan(
    [rec("a", 1), rec("b", 2)],
    [file("a", 2), file("b", 1)],
    { a: obj('"etag-a"'), b: obj('"etag-b"') },
  );
  assert.deepEqual(swap.moves.map((move) => [move.from, move.keepSource ?? false]).sort(), [
    ["a", true],
    ["b", true],
  ]);
  const chain = await runPlan(
    [rec("a", 1), rec("b", 2)],
    [file("b", 1), file("c", 2)],
    { a: obj('"etag-a"'), b: obj('"etag-b"') },
  );
  assert.deepEqual(chain.moves.map((move) => [move.from, move.keepSource ?? false]).sort(), [
    ["a", false],
    ["b", true],
  ]);
  const reused = await runPlan(
    [rec("a", 1)],
    [file("a", 7), file("b", 1)],
    { a: obj('"etag-a"') },
  );
  assert.deepEqual(reused.moves.map((move) => [move.from, move.keepSource ?? false]), [[
    "a",
    true,
  ]]);
  assert.deepEqual(reused.uploads.map((action) => action.key), ["a"]);
});

Deno.test("a move whose destination already holds the object needs no copy", async () => {
  const result = await runPlan(
    [rec("a", 1)],
    [file("b", 1)],
    { a: obj('"e1"'), b: obj('"e1"') },
  );
  assert.equal(result.moves[0]!.copyDone, true);
  const other = await runPlan([rec("a", 1)], [file("b", 1)], { a: obj('"e1"'), b: obj('"e2"') });
  assert.equal(other.moves[0]!.copyDone, false);
});
