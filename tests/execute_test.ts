/**
 * The live executor against an in-memory store with faults scripted in: chains and
 * cycles, a copy recorded before its source is deleted in a batch, a failed copy holding
 * its sources, partial DeleteObjects failures, S3 refusing a copy of an archived object,
 * a source that changed or vanished (uploaded instead), and the stop when S3 is gone.
 */
import assert from "node:assert/strict";
import { LiveExecutor } from "../lib/execute/live.ts";
import type {
  FileRecord,
  LocalFile,
  MoveAction,
  Plan,
  StateChange,
  StateRecorder,
  UploadAction,
} from "../lib/model.ts";
import { emptyPlan } from "../lib/plan/decide.ts";
import { MemoryUploadQueue } from "../lib/plan/upload_queue.ts";
import { MemoryStore } from "../lib/s3/memory_store.ts";
import type { CopyOptions, DeleteFailure, UploadOptions } from "../lib/s3/store.ts";
import { StoreUnreachableError } from "../lib/s3/unreachable_guard.ts";
import type { FileStat } from "../lib/scan/scan_fs.ts";

const T = 1_700_000_000_000;

/** A MemoryStore whose answers a test can script: S3 errors per key, network failure. */
class FaultyStore extends MemoryStore {
  copyErrors = new Map<string, string>();
  deleteErrors = new Map<string, string>();
  unreachable = false;
  copies: string[] = [];
  uploadErrors = new Set<string>();
  uploadOptions = new Map<string, UploadOptions | undefined>();

  override upload(key: string, file: { path: string; size: number }, options?: UploadOptions) {
    this.uploadOptions.set(key, options);
    if (this.uploadErrors.has(key)) {
      return Promise.reject(Object.assign(new Error("scripted"), { name: "InternalError" }));
    }
    return super.upload(key, file, options);
  }

  override copy(fromKey: string, toKey: string, options?: CopyOptions) {
    if (this.unreachable) return Promise.reject(new StoreUnreachableError("S3 is gone"));
    this.copies.push(`${fromKey}→${toKey}`);
    const name = this.copyErrors.get(fromKey);
    if (name) return Promise.reject(Object.assign(new Error(`${name} (scripted)`), { name }));
    return super.copy(fromKey, toKey, options);
  }

  override async deleteMany(keys: readonly string[]): Promise<DeleteFailure[]> {
    const failing = keys.filter((key) => this.deleteErrors.has(key));
    await super.deleteMany(keys.filter((key) => !this.deleteErrors.has(key)));
    return failing.map((key) => ({ key, message: this.deleteErrors.get(key)! }));
  }
}

class MemoryRecorder implements StateRecorder {
  rows = new Map<string, FileRecord>();
  changes: StateChange[] = [];
  get writes() {
    return this.changes.length;
  }
  apply(change: StateChange) {
    this.changes.push(change);
    for (const path of change.forget ?? []) this.rows.delete(path);
    for (const record of change.upsert ?? []) this.rows.set(record.path, record);
    for (const { path, to } of change.moved ?? []) {
      const row = this.rows.get(path);
      if (row) this.rows.set(path, { ...row, movedTo: to });
    }
    for (const path of change.forgetMoved ?? []) {
      if (this.rows.get(path)?.movedTo !== undefined) this.rows.delete(path);
    }
  }
}

/** The local files of the test's tree, by path: what the executor's checks see. */
const localFiles = new Map<string, LocalFile>();

function file(path: string, ino: number, size = 3): LocalFile {
  const local = { path, dev: 1, ino: BigInt(ino), size, mtimeMs: T };
  localFiles.set(path, local);
  return local;
}

function move(from: string, to: string, ino: number, extra: Partial<MoveAction> = {}): MoveAction {
  return {
    from,
    to,
    file: file(to, ino),
    size: 3,
    etag: `"${from}"`,
    storageClass: "STANDARD",
    sse: "",
    copyDone: false,
    reason: "renamed",
    ...extra,
  };
}

function planOf(parts: Partial<Plan> & { uploadActions?: UploadAction[] }): Plan {
  const uploads = new MemoryUploadQueue();
  for (const action of parts.uploadActions ?? []) uploads.push(action);
  return { ...emptyPlan(uploads), ...parts, uploads };
}

/** A store holding `keys` (each object's ETag is its own key, quoted) and rows for them. */
function setUp(keys: string[]) {
  const store = new FaultyStore();
  const recorder = new MemoryRecorder();
  for (const [index, key] of keys.entries()) {
    store.put(key, { size: 3, lastModifiedMs: T, etag: `"${key}"` });
    recorder.rows.set(key, {
      path: key,
      dev: 1,
      ino: BigInt(index + 1),
      size: 3,
      mtimeMs: T,
      inS3: true,
      etag: `"${key}"`,
    });
  }
  recorder.changes = [];
  // Every local file is still what the scan saw (its inode is in `localFiles`).
  const fs = {
    lstat: (path: string): FileStat => {
      const local = localFiles.get(path.slice("/nowhere/".length));
      if (!local) throw new Deno.errors.NotFound(path);
      return { isFile: true, isDirectory: false, isSymlink: false, ...local };
    },
  };
  let temp = 0;
  const executor = new LiveExecutor({
    store,
    recorder,
    prefix: "",
    root: "/nowhere",
    concurrency: 4,
    moveConcurrency: 8,
    tempKey: () => `.s3-smart-sync-tmp/${++temp}`,
    fs,
  });
  return { store, recorder, executor };
}

const keysOf = (store: MemoryStore) => [...store.objects.keys()].sort();

Deno.test("independent moves copy, record at once, and delete their sources in one batch", async () => {
  const names = Array.from({ length: 1500 }, (_, i) => `old/${String(i).padStart(4, "0")}`);
  const { store, recorder, executor } = setUp(names);
  const moves = names.map((name, i) => move(name, name.replace("old/", "new/"), i + 1));
  const outcome = await executor.execute(planOf({ moves }));
  assert.equal(outcome.moves.length, 1500);
  assert.deepEqual(keysOf(store), names.map((name) => name.replace("old/", "new/")).sort());
  const counts = store.requestCounts();
  assert.equal(counts.CopyObject, 1500);
  assert.equal(counts.DeleteObjects, 2, "1,500 sources in batches of at most 1,000");
  assert.equal(counts.HeadObject, undefined, "the state knew everything the copies need");
  // The destination was recorded before the source was deleted: the row of a move is
  // marked moved in the same change that writes its destination.
  const first = recorder.changes.find((change) => change.moved?.length);
  assert.ok(first?.upsert?.length === 1 && first.moved?.length === 1);
  assert.equal(recorder.rows.size, 1500, "only the new rows are left");
  assert.ok([...recorder.rows.keys()].every((key) => key.startsWith("new/")));
});

Deno.test("a chain runs from its end and deletes only the source nothing rewrites", async () => {
  const { store, executor } = setUp(["a", "b"]);
  // a→b while b→c: b must reach c before a overwrites it.
  const plan = planOf({
    moves: [move("a", "b", 1, { keepSource: false }), move("b", "c", 2, { keepSource: true })],
  });
  await executor.execute(plan);
  assert.deepEqual(store.copies, ["b→c", "a→b"]);
  assert.deepEqual(keysOf(store), ["b", "c"]);
  assert.equal(store.objects.get("b")!.etag, '"a"');
  assert.equal(store.objects.get("c")!.etag, '"b"');
  assert.equal(store.requestCounts().DeleteObjects, 1);
});

Deno.test("a swap goes through one temporary key, which is deleted", async () => {
  const { store, executor } = setUp(["a", "b"]);
  const plan = planOf({
    moves: [move("a", "b", 1, { keepSource: true }), move("b", "a", 2, { keepSource: true })],
  });
  const outcome = await executor.execute(plan);
  assert.equal(outcome.moves.length, 2);
  assert.deepEqual(keysOf(store), ["a", "b"]);
  assert.equal(store.objects.get("a")!.etag, '"b"');
  assert.equal(store.objects.get("b")!.etag, '"a"');
});

Deno.test("a failed copy holds its source and the sources of the moves after it", async () => {
  const { store, executor, recorder } = setUp(["a", "b"]);
  store.copyErrors.set("b", "AccessDenied");
  const plan = planOf({
    moves: [move("a", "b", 1), move("b", "c", 2, { keepSource: true })],
    // A new file at "a" and at "b" would overwrite the only copies of their content.
    uploadActions: [
      { key: "a", file: file("a", 9), reason: "new" },
      { key: "b", file: file("b", 8), reason: "new" },
    ],
  });
  const outcome = await executor.execute(plan);
  assert.equal(outcome.failureCount, 1);
  assert.match(outcome.failures[0]!.message, /Cannot move "b" to "c": AccessDenied/);
  assert.equal(outcome.waiting, 2, "both uploads wait");
  assert.deepEqual(keysOf(store), ["a", "b"], "nothing was overwritten or deleted");
  assert.equal(recorder.rows.get("a")!.movedTo, undefined);
});

Deno.test("a source that vanished or changed in S3 is uploaded instead; its row is forgotten", async () => {
  for (const name of ["NoSuchKey", "PreconditionFailed"]) {
    const { store, executor, recorder } = setUp(["a"]);
    store.copyErrors.set("a", name);
    const outcome = await executor.execute(planOf({ moves: [move("a", "b", 1)] }));
    assert.equal(outcome.fellBack, 1, name);
    assert.equal(outcome.failureCount, 0);
    assert.equal(outcome.uploads, 1);
    assert.ok(store.objects.has("a"), "the source is not deleted");
    assert.ok(store.objects.has("b"));
    assert.equal(recorder.rows.get("a"), undefined);
    assert.equal(recorder.rows.get("b")!.inS3, true);
  }
});

Deno.test("a move the server cannot copy (501) is uploaded with the object's class and encryption, then its source goes", async () => {
  const { store, executor, recorder } = setUp(["a"]);
  store.copyErrors.set("a", "NotImplemented");
  const keep = { storageClass: "GLACIER", sse: "aws:kms|key-1" };
  const outcome = await executor.execute(planOf({ moves: [move("a", "b", 1, keep)] }));
  assert.equal(outcome.fellBack, 1);
  assert.equal(outcome.failureCount, 0);
  assert.equal(outcome.uploads, 1);
  assert.deepEqual(keysOf(store), ["b"], "the old copy is deleted once the new one is up");
  assert.deepEqual(
    {
      storageClass: store.uploadOptions.get("b")?.storageClass,
      sse: store.uploadOptions.get("b")?.sse,
    },
    keep,
  );
  assert.equal(recorder.rows.get("a"), undefined);
  const row = recorder.rows.get("b")!;
  assert.deepEqual({ storageClass: row.storageClass, sse: row.sse }, keep);
});

Deno.test("a move the server cannot copy keeps its source when the upload fails too", async () => {
  const { store, executor, recorder } = setUp(["a"]);
  store.copyErrors.set("a", "NotImplemented");
  store.uploadErrors.add("b");
  const outcome = await executor.execute(planOf({ moves: [move("a", "b", 1)] }));
  assert.equal(outcome.failureCount, 1);
  assert.deepEqual(keysOf(store), ["a"]);
  assert.equal(recorder.rows.get("a")?.movedTo, undefined, "not marked moved: nothing to finish");
});

Deno.test("a copy S3 refuses because the source is archived is deferred, not failed", async () => {
  const { store, executor } = setUp(["a", "x"]);
  store.copyErrors.set("a", "InvalidObjectState");
  const outcome = await executor.execute(planOf({
    moves: [move("a", "b", 1, { storageClass: "INTELLIGENT_TIERING" }), move("x", "y", 2)],
    uploadActions: [{ key: "a", file: file("a", 5), reason: "new" }],
  }));
  assert.equal(outcome.failureCount, 0);
  assert.deepEqual(outcome.deferred.map((deferred) => `${deferred.from}→${deferred.to}`), [
    "a→b",
  ]);
  assert.match(outcome.deferred[0]!.reason, /archived \(InvalidObjectState\)/);
  assert.equal(outcome.waiting, 1, "the upload over the archived object waits");
  assert.deepEqual(keysOf(store), ["a", "y"]);
});

Deno.test("a source whose delete fails keeps its moved row, for the next run to delete", async () => {
  const { store, executor, recorder } = setUp(["a", "b"]);
  store.deleteErrors.set("a", "AccessDenied: scripted");
  const outcome = await executor.execute(
    planOf({ moves: [move("a", "a2", 1), move("b", "b2", 2)] }),
  );
  assert.equal(outcome.moves.length, 2);
  assert.equal(outcome.failureCount, 1);
  assert.match(outcome.failures[0]!.message, /could not delete it: AccessDenied.*next run/);
  assert.equal(recorder.rows.get("a")!.movedTo, "a2", "a waits to be deleted");
  assert.equal(recorder.rows.get("b"), undefined, "b is done");
  assert.deepEqual(keysOf(store), ["a", "a2", "b2"]);
});

Deno.test("deletes of vanished files go in the same batches as the moved sources", async () => {
  const { store, executor } = setUp(["a", "gone1", "gone2"]);
  const outcome = await executor.execute(planOf({
    moves: [move("a", "b", 1)],
    deletes: [
      { key: "gone1", size: 3, reason: "no local file" },
      { key: "gone2", size: 3, reason: "no local file" },
    ],
  }));
  assert.equal(outcome.deletes, 2, "moved sources are not counted as deletes");
  assert.equal(store.requestCounts().DeleteObjects, 1);
  assert.deepEqual(keysOf(store), ["b"]);
});

Deno.test("the executor stops when S3 becomes unreachable, keeping what was recorded", async () => {
  const { store, executor } = setUp(["a"]);
  store.unreachable = true;
  await assert.rejects(
    executor.execute(planOf({ moves: [move("a", "b", 1)] })),
    StoreUnreachableError,
  );
});
