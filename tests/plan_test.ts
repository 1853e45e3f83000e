import assert from "node:assert/strict";
import type { PlanOptions } from "../lib/plan/plan.ts";
import { NAME_AS_ON_DISK } from "../lib/plan/rules.ts";
import { runPlan, type TestPlan } from "./helpers/plan_run.ts";
import { orderMoves } from "../lib/plan/move_order.ts";
import { summariseRenames } from "../lib/report/renames.ts";
import {
  type FileRecord,
  type LocalFile,
  type MoveAction,
  type RemoteEntry,
  TEMP_FOLDER,
} from "../lib/model.ts";

const T = 1_700_000_000_000; // an mtime, on a whole second
const DEV = 2049;

function file(path: string, ino: number, size = 100, mtimeMs = T, dev = DEV): LocalFile {
  return { path, dev, ino: BigInt(ino), size, mtimeMs };
}

function rec(
  path: string,
  ino: number,
  { size = 100, mtimeMs = T, inS3 = true, dev = DEV } = {},
): FileRecord {
  return { path, dev, ino: BigInt(ino), size, mtimeMs, inS3 };
}

function obj(size = 100, lastModifiedMs = T + 60_000, etag?: string): RemoteEntry {
  return { size, lastModifiedMs, etag };
}

const DEFAULT_OPTIONS: PlanOptions = { mode: "sync" };

function run(
  previous: FileRecord[],
  local: LocalFile[],
  remote: Record<string, RemoteEntry>,
  options: PlanOptions = DEFAULT_OPTIONS,
): Promise<TestPlan> {
  return runPlan(previous, local, remote, options);
}

/** The plan's actions as short strings, for readable assertions. */
function actions(result: TestPlan) {
  return {
    moves: result.moves.map((move) => `${move.from}→${move.to}`).sort(),
    uploads: result.uploads.map((upload) => `${upload.key}:${upload.reason}`).sort(),
    deletes: result.deletes.map((del) => del.key).sort(),
  };
}

const nothing = { moves: [], uploads: [], deletes: [] };

Deno.test("plan() uploads every file as new on a first run to an empty prefix", async () => {
  const result = await run([], [file("a.jpg", 1), file("dir/b.jpg", 2, 7)], {}, {
    mode: "sync",
    deleteRemote: true,
  });
  assert.deepEqual(actions(result), { ...nothing, uploads: ["a.jpg:new", "dir/b.jpg:new"] });
  assert.equal(result.uploads.find((u) => u.key === "dir/b.jpg")?.file.size, 7);
  assert.deepEqual(result.record, { upsert: [], forget: [] });
  assert.equal(result.unchanged, 0);
});

Deno.test("plan() plans nothing and writes no state when nothing changed", async () => {
  const known = { etag: '"e"', storageClass: "STANDARD" };
  const result = await run(
    [{ ...rec("a", 1), ...known }, { ...rec("b/c", 2, { size: 5 }), ...known }],
    [file("a", 1), file("b/c", 2, 5)],
    { a: obj(100, T - 3_600_000, '"e"'), "b/c": obj(5, T, '"e"') },
    { mode: "sync", deleteRemote: true },
  );
  assert.deepEqual(actions(result), nothing);
  assert.equal(result.unchanged, 2);
  assert.deepEqual(result.record, { upsert: [], forget: [] });
  assert.equal(result.adopted + result.inodeUpdates, 0);
});

Deno.test("an unchanged file's row learns its object's ETag and class from the listing, once", async () => {
  // Ceph RGW answers a multipart upload with an empty ETag; rows of older versions have no class.
  const result = await run(
    [rec("big.bin", 1), { ...rec("known", 2), etag: '"k"', storageClass: "STANDARD" }],
    [file("big.bin", 1), file("known", 2)],
    {
      "big.bin": { size: 100, lastModifiedMs: T, etag: '"abc-3"', storageClass: "GLACIER" },
      known: obj(100, T, '"k"'),
    },
  );
  assert.deepEqual(actions(result), nothing);
  assert.equal(result.unchanged, 2);
  assert.equal(result.adopted + result.inodeUpdates, 0);
  assert.deepEqual(result.record.upsert, [
    { ...rec("big.bin", 1), etag: '"abc-3"', storageClass: "GLACIER" },
  ]);
});

Deno.test("plan() turns a rename into a server-side move that keeps etag and storage class", async () => {
  const result = await run([rec("old.jpg", 7)], [file("new.jpg", 7)], {
    "old.jpg": { size: 100, lastModifiedMs: T, etag: '"abc"', storageClass: "STANDARD_IA" },
  }, { mode: "sync", deleteRemote: true });
  assert.deepEqual(actions(result), { ...nothing, moves: ["old.jpg→new.jpg"] });
  const { etag, storageClass, size, copyDone, reason } = result.moves[0]!;
  assert.deepEqual({ etag, storageClass, size, copyDone, reason }, {
    etag: '"abc"',
    storageClass: "STANDARD_IA",
    size: 100,
    copyDone: false,
    reason: "renamed",
  });
  assert.equal(result.moves[0]!.file?.path, "new.jpg");
  assert.deepEqual(result.record.forget, [], "the move source row is left to the executor");
});

Deno.test("plan() moves every file of a renamed folder", async () => {
  const names = ["x.jpg", "y.jpg", "sub/z.jpg"];
  const result = await run(
    names.map((name, i) => rec(`2023/${name}`, 10 + i)),
    names.map((name, i) => file(`trips/2023/${name}`, 10 + i)),
    Object.fromEntries(names.map((name) => [`2023/${name}`, obj()])),
    { mode: "sync", deleteRemote: true },
  );
  assert.deepEqual(actions(result).moves, names.map((n) => `2023/${n}→trips/2023/${n}`).sort());
  assert.deepEqual(result.uploads.length + result.deletes.length, 0);
});

Deno.test("plan() moves both files of a swap even when the old path holds another inode", async () => {
  const result = await run([rec("a", 1), rec("b", 2)], [file("a", 2), file("b", 1)], {
    a: obj(100, T, '"same"'),
    b: obj(100, T, '"same"'),
  }, { mode: "sync", deleteRemote: true });
  assert.deepEqual(actions(result), { ...nothing, moves: ["a→b", "b→a"] });
  assert.ok(result.moves.every((move) => !move.copyDone), "a swap destination is a move source");
});

Deno.test("plan() uploads a hard link instead of moving, since the old path keeps the inode", async () => {
  const result = await run([rec("a", 1)], [file("a", 1), file("link", 1)], { a: obj() }, {
    mode: "sync",
    deleteRemote: true,
  });
  assert.deepEqual(actions(result), { ...nothing, uploads: ["link:new"] });
  assert.equal(result.unchanged, 1);
});

Deno.test("plan() moves a renamed file once and uploads its other new names", async () => {
  const result = await run([rec("a", 1)], [file("b", 1), file("c", 1)], { a: obj() });
  assert.deepEqual(actions(result), { ...nothing, moves: ["a→b"], uploads: ["c:new"] });
});

Deno.test("plan() uploads a hard link made after a device change, without moving its source", async () => {
  // The volume was remounted (new dev), and "a" got a second name. "a" is still there.
  const result = await run(
    [rec("a", 1, { dev: 1 })],
    [file("a", 1, 100, T, 2), file("b", 1, 100, T, 2)],
    {
      a: obj(),
    },
    { mode: "sync", rootDevChanged: true },
  );
  assert.deepEqual(actions(result), { ...nothing, uploads: ["b:new"] });
});

Deno.test("plan() uploads when the inode is reused with another size or mtime", async () => {
  for (const reused of [file("new", 1, 101), file("new", 1, 100, T + 1000)]) {
    const result = await run([rec("gone", 1)], [reused], { gone: obj() }, {
      mode: "sync",
      deleteRemote: true,
    });
    assert.deepEqual(actions(result), { ...nothing, uploads: ["new:new"], deletes: ["gone"] });
    assert.deepEqual(result.record.forget, ["gone"]);
  }
});

Deno.test("plan() uploads a rename whose old key is missing or listed with another size", async () => {
  for (const remote of [{}, { old: obj(99) }] as Record<string, RemoteEntry>[]) {
    const result = await run([rec("old", 1)], [file("new", 1)], remote);
    assert.deepEqual(actions(result).moves, []);
    assert.deepEqual(actions(result).uploads, ["new:new"]);
  }
});

Deno.test("plan() moves across devices only when the root device changed", async () => {
  const previous = [rec("old", 1, { dev: 1 })];
  const local = [file("new", 1, 100, T, 2)];
  const remote = { old: obj() };
  assert.deepEqual(actions(await run(previous, local, remote)).uploads, ["new:new"]);
  const result = await run(previous, local, remote, { mode: "sync", rootDevChanged: true });
  assert.deepEqual(actions(result), { ...nothing, moves: ["old→new"] });
});

Deno.test("plan() moves a row recorded by moves only if the listed object is not older", async () => {
  const previous = [rec("old", 1, { mtimeMs: T + 1500, inS3: false })];
  const local = [file("new", 1, 100, T + 1500)];
  // Listed a second before the file's mtime: the object predates the file's content.
  assert.deepEqual(actions(await run(previous, local, { old: obj(100, T) })).uploads, ["new:new"]);
  // Same second, earlier millisecond: S3 lists whole seconds, so it counts as not older.
  const sameSecond = await run(previous, local, { old: obj(100, T + 1000) });
  assert.deepEqual(actions(sameSecond), { ...nothing, moves: ["old→new"] });
  // A row we uploaded ourselves needs no age check.
  const ours = await run([rec("old", 1, { mtimeMs: T + 1500 })], local, { old: obj(100, T) });
  assert.deepEqual(actions(ours).moves, ["old→new"]);
});

Deno.test("plan() uploads a renamed and edited file and deletes the old key with deleteRemote", async () => {
  const previous = [rec("old", 1)];
  const local = [file("new", 1, 250, T + 5000)];
  const withDelete = await run(previous, local, { old: obj() }, {
    mode: "sync",
    deleteRemote: true,
  });
  assert.deepEqual(actions(withDelete), { ...nothing, uploads: ["new:new"], deletes: ["old"] });
  assert.equal(withDelete.deletes[0]!.size, 100);
  assert.deepEqual(withDelete.record.forget, ["old"]);
  assert.deepEqual(actions(await run(previous, local, { old: obj() })).deletes, []);
});

Deno.test("plan() records an inode change at an unchanged path without uploading", async () => {
  const result = await run([rec("a", 1), rec("b", 2)], [file("a", 51), file("b", 52)], {
    a: obj(),
    b: obj(),
  }, { mode: "sync", deleteRemote: true });
  assert.deepEqual(actions(result), nothing);
  assert.equal(result.inodeUpdates, 2);
  assert.deepEqual(
    result.record.upsert.map((r) => [r.path, r.ino, r.inS3]).sort(),
    [["a", 51n, true], ["b", 52n, true]],
  );
});

Deno.test("plan() uploads, not re-records, a path whose key a move takes away", async () => {
  // A swap of two same-size, same-mtime files, with b's object missing (a swap that died
  // after its first step): "a" looks like a remount, yet its key is moved to "b".
  const result = await run([rec("a", 1), rec("b", 2)], [file("a", 2), file("b", 1)], { a: obj() });
  assert.deepEqual(actions(result).moves, ["a→b"]);
  assert.deepEqual(result.uploads.map((upload) => upload.key), ["a"]);
  assert.equal(result.inodeUpdates, 0);
  assert.ok(!result.record.upsert.some((r) => r.path === "a" && r.inS3));
});

Deno.test("plan() adopts same-size objects on a first run, but not older or other-size ones", async () => {
  const result = await run([], [file("same", 1), file("older", 2), file("bigger", 3)], {
    same: obj(100, T + 10),
    older: obj(100, T - 1000),
    bigger: obj(200, T + 10),
  });
  assert.equal(result.adopted, 1);
  assert.deepEqual(actions(result).uploads, ["bigger:new", "older:new"]);
  // The adopted object's class (a listing that names none: STANDARD) is recorded with it.
  assert.deepEqual(result.record.upsert, [{ ...rec("same", 1), storageClass: "STANDARD" }]);
});

Deno.test("plan() gives the reason for uploading a file already recorded", async () => {
  const result = await run(
    [rec("changed", 1), rec("missing", 2), rec("differs", 3)],
    [file("changed", 1, 120), file("missing", 2), file("differs", 3)],
    { changed: obj(), differs: obj(7) },
  );
  assert.deepEqual(actions(result).uploads, [
    "changed:changed",
    "differs:differs in S3",
    "missing:missing in S3",
  ]);
});

Deno.test("plan() in moves mode records local state instead of uploading", async () => {
  const previous = [rec("known", 1, { inS3: false }), rec("old", 2), rec("vanished", 3)];
  const local = [file("known", 1), file("fresh", 4), file("renamed", 2)];
  const remote = { old: obj(), vanished: obj(), stray: obj() };
  const result = await run(previous, local, remote, { mode: "moves" });
  assert.deepEqual(actions(result), { ...nothing, moves: ["old→renamed"] });
  assert.deepEqual(result.record.upsert, [rec("fresh", 4, { inS3: false })]);
  assert.deepEqual(result.record.forget, ["vanished"]);
  // With deleteRemote it also lists what sync --delete would delete, for the delete guard
  // of batch's aws step (runTarget never makes these deletes in moves mode).
  const judged = await run(previous, local, remote, { mode: "moves", deleteRemote: true });
  assert.deepEqual(actions(judged), {
    ...nothing,
    moves: ["old→renamed"],
    deletes: ["stray", "vanished"],
  });
});

Deno.test("plan() with deleteRemote deletes keys without a local file but never move sources", async () => {
  const result = await run([rec("moved", 1)], [file("kept", 2), file("dest", 1)], {
    kept: obj(),
    moved: obj(),
    stray: obj(33),
    "dir/stray2": obj(),
  }, { mode: "sync", deleteRemote: true });
  assert.deepEqual(actions(result).moves, ["moved→dest"]);
  assert.deepEqual(actions(result).deletes, ["dir/stray2", "stray"]);
  assert.equal(result.deletes.find((d) => d.key === "stray")?.size, 33);
  assert.deepEqual(actions(await run([], [file("kept", 2)], { stray: obj() })).deletes, []);
});

Deno.test("plan() deletes leftover temporary keys even without deleteRemote", async () => {
  const result = await run([], [file(`${TEMP_FOLDER}x`, 9), file("a", 1)], {
    [`${TEMP_FOLDER}1`]: obj(),
    a: obj(),
    stray: obj(),
  });
  assert.deepEqual(actions(result).deletes, [`${TEMP_FOLDER}1`]);
  assert.deepEqual(result.skipped.map((s) => s.path), [`${TEMP_FOLDER}x`]);
  assert.deepEqual(actions(result).uploads, []);
});

Deno.test("plan() marks copyDone only when the destination holds the same etag and size", async () => {
  const cases: Array<[RemoteEntry | undefined, boolean]> = [
    [obj(100, T, '"e1"'), true],
    [obj(100, T, '"e2"'), false],
    [obj(101, T, '"e1"'), false],
    [obj(100, T), false],
    [undefined, false],
  ];
  for (const [destination, expected] of cases) {
    const remote: Record<string, RemoteEntry> = { old: obj(100, T, '"e1"') };
    if (destination) remote.new = destination;
    const result = await run([rec("old", 1)], [file("new", 1)], remote);
    assert.deepEqual(actions(result).moves, ["old→new"]);
    assert.equal(result.moves[0]!.copyDone, expected, JSON.stringify(destination));
  }
});

Deno.test("plan() forgets the row at a key that a move overwrites", async () => {
  // "mv a b" over an existing b.
  const result = await run([rec("a", 1), rec("b", 2)], [file("b", 1)], { a: obj(), b: obj() }, {
    mode: "sync",
    deleteRemote: true,
  });
  assert.deepEqual(actions(result), { ...nothing, moves: ["a→b"] });
  assert.deepEqual(result.record.forget, ["b"]);
});

Deno.test("plan() keys NFC and NFD names as they are on disk: two files, two keys", async () => {
  const nfc = "caf\u00e9.txt";
  const nfd = "cafe\u0301.txt";
  const result = await run([], [file(nfc, 1), file(nfd, 2)], {});
  assert.deepEqual(actions(result).uploads, [`${nfc}:new`, `${nfd}:new`].sort());
  assert.deepEqual(result.skipped, []);
  // A decomposed name matches the object at its own, decomposed key.
  const alone = await run([rec(nfd, 2)], [file(nfd, 2)], { [nfd]: obj() }, {
    mode: "sync",
    deleteRemote: true,
  });
  assert.deepEqual(actions(alone), nothing);
  assert.equal(alone.unchanged, 1);
});

Deno.test("plan() moves an NFC-keyed object (rows before v5) to the name as on disk", async () => {
  const nfc = "Caf\u00e9/r\u00e9sum\u00e9.txt";
  const nfd = nfc.normalize("NFD");
  // Same inode: found as a rename, reported as the key change.
  const same = await run([rec(nfc, 7)], [file(nfd, 7)], { [nfc]: obj(100, T, '"e1"') }, {
    mode: "sync",
    deleteRemote: true,
    nfcKeys: true,
  });
  assert.deepEqual(actions(same), { ...nothing, moves: [`${nfc}→${nfd}`] });
  assert.equal(same.moves[0]!.reason, NAME_AS_ON_DISK);
  // Another inode (a remount renumbered it): moved by name, size and mtime.
  const remounted = await run([rec(nfc, 7)], [file(nfd, 99)], { [nfc]: obj() }, {
    mode: "sync",
    deleteRemote: true,
    nfcKeys: true,
  });
  assert.deepEqual(actions(remounted), { ...nothing, moves: [`${nfc}→${nfd}`] });
  // Not for targets whose keys are already as on disk, nor when the size differs.
  assert.deepEqual(
    actions(await run([rec(nfc, 7)], [file(nfd, 99)], { [nfc]: obj() }, { mode: "sync" })).uploads,
    [`${nfd}:new`],
  );
  assert.deepEqual(
    actions(
      await run([rec(nfc, 7, { size: 5 })], [file(nfd, 99)], { [nfc]: obj(5) }, {
        mode: "sync",
        nfcKeys: true,
      }),
    ).uploads,
    [`${nfd}:new`],
  );
  // Both names on disk: two files, each keeps its own key.
  const both = await run([rec(nfc, 7)], [file(nfc, 7), file(nfd, 8)], { [nfc]: obj() }, {
    mode: "sync",
    nfcKeys: true,
  });
  assert.deepEqual(actions(both), { ...nothing, uploads: [`${nfd}:new`] });
});

function mv(from: string, to: string): MoveAction {
  return { from, to, size: 1, copyDone: false, reason: "renamed" };
}

function steps(sequences: ReturnType<typeof orderMoves>): string[][] {
  return sequences.map((sequence) => sequence.map((step) => `${step.from}→${step.to}`));
}

function temps(): () => string {
  let n = 0;
  return () => `${TEMP_FOLDER}${++n}`;
}

Deno.test("orderMoves() runs a chain from its end: b→c before a→b", () => {
  for (const moves of [[mv("a", "b"), mv("b", "c")], [mv("b", "c"), mv("a", "b")]]) {
    const ordered = orderMoves(moves, temps());
    assert.deepEqual(steps(ordered), [["b→c", "a→b"]]);
    assert.ok(ordered[0]!.every((step) => !step.viaTemp));
  }
});

Deno.test("orderMoves() sends a swap through one temporary key", () => {
  let calls = 0;
  const ordered = orderMoves([mv("a", "b"), mv("b", "a")], () => `tmp${++calls}`);
  assert.deepEqual(steps(ordered), [["a→tmp1", "b→a", "tmp1→b"]]);
  assert.equal(calls, 1);
  const [first, middle, last] = ordered[0]!;
  assert.deepEqual([first!.viaTemp, middle!.viaTemp, last!.viaTemp], [true, false, true]);
  assert.equal(first!.file, undefined);
  assert.equal(last!.originalFrom, "a");
});

Deno.test("orderMoves() breaks a three-cycle so that no key is overwritten early", () => {
  const moves = [mv("a", "b"), mv("b", "c"), mv("c", "a")];
  const ordered = orderMoves(moves, temps());
  assert.equal(ordered.length, 1);
  const sequence = ordered[0]!;
  assert.equal(sequence.length, 4);
  // Simulate: every destination must be free (moved away already) when written.
  const keys = new Map([["a", "A"], ["b", "B"], ["c", "C"]]);
  for (const step of sequence) {
    assert.ok(!keys.has(step.to), `${step.to} overwritten by ${step.from}→${step.to}`);
    assert.ok(keys.has(step.from), `${step.from} missing`);
    keys.set(step.to, keys.get(step.from)!);
    keys.delete(step.from);
  }
  assert.deepEqual(Object.fromEntries(keys), { b: "A", c: "B", a: "C" });
});

Deno.test("orderMoves() gives independent moves a sequence each", () => {
  const ordered = orderMoves([mv("a", "x"), mv("b", "y"), mv("c", "z")], temps());
  assert.deepEqual(steps(ordered), [["a→x"], ["b→y"], ["c→z"]]);
  assert.deepEqual(orderMoves([], temps()), []);
});

Deno.test("summariseRenames() groups a folder rename and keeps file renames apart", () => {
  const summary = summariseRenames([
    { from: "2023/a.jpg", to: "trips/a.jpg", size: 10 },
    { from: "2023/sub/b.jpg", to: "trips/sub/b.jpg", size: 5 },
    { from: "x/old.txt", to: "x/new.txt", size: 3 },
  ]);
  assert.deepEqual(summary.folders, [{ from: "2023/", to: "trips/", files: 2, bytes: 15 }]);
  assert.deepEqual(summary.files, [{ from: "x/old.txt", to: "x/new.txt", size: 3 }]);
});

Deno.test("summariseRenames() reports a nested folder rename by the part that differs", () => {
  const summary = summariseRenames([
    { from: "p/2023/x/a.jpg", to: "p/2024/x/a.jpg", size: 1 },
    { from: "p/2023/b.jpg", to: "p/2024/b.jpg", size: 2 },
    { from: "q/c.jpg", to: "r/c.jpg", size: 4 },
  ]);
  assert.deepEqual(summary.folders, [
    { from: "p/2023/", to: "p/2024/", files: 2, bytes: 3 },
    { from: "q/", to: "r/", files: 1, bytes: 4 },
  ]);
  assert.deepEqual(summary.files, []);
});

Deno.test("summariseRenames() names the root as the empty folder", () => {
  const summary = summariseRenames([
    { from: "a.jpg", to: "dir/a.jpg", size: 1 },
    { from: "b.jpg", to: "dir/b.jpg", size: 1 },
    { from: "up/c.jpg", to: "c.jpg", size: 1 },
  ]);
  assert.deepEqual(summary.folders, [
    { from: "", to: "dir/", files: 2, bytes: 2 },
    { from: "up/", to: "", files: 1, bytes: 1 },
  ]);
});

Deno.test("summariseRenames() reports a folder moved into another as in its JSDoc example", () => {
  const summary = summariseRenames([{ from: "2023/a.jpg", to: "old/2023/a.jpg", size: 1 }]);
  assert.deepEqual(summary.folders, [{ from: "2023/", to: "old/2023/", files: 1, bytes: 1 }]);
});
