/**
 * LiveExecutor's handling of answers only S3 gives at copy time, with a scripted
 * store: an Intelligent-Tiering object in an archive tier is listed as
 * INTELLIGENT_TIERING, and S3 refuses the copy with InvalidObjectState.
 */
import assert from "node:assert/strict";
import { LiveExecutor } from "../lib/execute/live.ts";
import { plan } from "../lib/plan/plan.ts";
import type { ObjectStore } from "../lib/s3/store.ts";
import { type FileRecord, type Plan, type StateChange, type StateRecorder } from "../lib/model.ts";

class ScriptedStore implements ObjectStore {
  calls: string[] = [];
  constructor(private readonly archived: Set<string>) {}
  async *list() {}
  upload(key: string) {
    this.calls.push(`upload ${key}`);
    return Promise.resolve({});
  }
  copy(from: string, to: string) {
    this.calls.push(`copy ${from} ${to}`);
    if (this.archived.has(from)) {
      const error = new Error("The operation is not valid for the object's storage class");
      error.name = "InvalidObjectState";
      return Promise.reject(error);
    }
    return Promise.resolve();
  }
  deleteMany(keys: readonly string[]) {
    this.calls.push(`delete ${keys.join(",")}`);
    return Promise.resolve([]);
  }
  head() {
    return Promise.resolve(undefined);
  }
  restore() {
    return Promise.resolve("started" as const);
  }
  abortMultipartUploads() {
    return Promise.resolve(0);
  }
  requestCounts() {
    return {};
  }
}

class MemoryRecorder implements StateRecorder {
  changes: StateChange[] = [];
  get writes() {
    return this.changes.length;
  }
  apply(change: StateChange) {
    this.changes.push(change);
  }
}

const T = 1_700_000_000_000;
const rec = (path: string, ino: number): FileRecord => ({
  path,
  dev: 1,
  ino,
  size: 5,
  mtimeMs: T,
  inS3: true,
});

function planFor(): Plan {
  // a.bin → b.bin (a is archived in Intelligent-Tiering), and a new a.bin appears.
  return plan({
    previous: new Map([["a.bin", rec("a.bin", 1)], ["c.bin", rec("c.bin", 3)]]),
    local: [
      { path: "b.bin", dev: 1, ino: 1, size: 5, mtimeMs: T },
      { path: "a.bin", dev: 1, ino: 9, size: 7, mtimeMs: T + 9000 },
      { path: "d.bin", dev: 1, ino: 3, size: 5, mtimeMs: T },
    ],
    remote: new Map([
      ["a.bin", { size: 5, lastModifiedMs: T, etag: '"1"', storageClass: "INTELLIGENT_TIERING" }],
      ["c.bin", { size: 5, lastModifiedMs: T, etag: '"3"' }],
    ]),
  }, { mode: "sync" });
}

Deno.test("LiveExecutor defers a move S3 refuses with InvalidObjectState, and holds the upload to its key", async () => {
  const result = planFor();
  assert.equal(result.moves.length, 2);
  assert.equal(
    result.uploads.length,
    1,
    "the planner cannot know: the listing says INTELLIGENT_TIERING",
  );
  const store = new ScriptedStore(new Set(["p/a.bin"]));
  const recorder = new MemoryRecorder();
  const outcome = await new LiveExecutor({
    store,
    recorder,
    prefix: "p/",
    root: "/nonexistent",
    concurrency: 1,
  }).execute(result);
  assert.deepEqual(outcome.failures, []);
  assert.deepEqual(outcome.deferred.map((move) => `${move.from}→${move.to}`), ["a.bin→b.bin"]);
  assert.match(outcome.deferred[0]!.reason, /InvalidObjectState/);
  assert.deepEqual(outcome.waiting.map((upload) => upload.key), ["a.bin"]);
  assert.deepEqual(outcome.moves.map((move) => move.to), ["d.bin"]);
  assert.ok(!store.calls.some((call) => call.startsWith("upload")), "nothing overwrites a.bin");
  assert.ok(!store.calls.some((call) => call.includes("p/a.bin") && call.startsWith("delete")));
});
