/**
 * Moves from archived sources: they wait for a restore on S3 (which refuses to copy such
 * objects) and are copied, class kept, on servers that keep classes as labels (Ceph RGW),
 * which a custom endpoint's first such move finds out with a one-byte GET, once.
 * runTarget on a real folder, with an in-memory bucket.
 */
import assert from "node:assert/strict";
import { archivedMovesWait } from "../lib/execute/archive_reads.ts";
import { archivedSource } from "../lib/plan/decide.ts";
import { runRestore } from "../lib/cli/restore.ts";
import { runTarget } from "../lib/run_target.ts";
import { MemoryStore, type StoredObject } from "../lib/s3/memory_store.ts";
import { StateStore } from "../lib/state/store.ts";

const location = { bucket: "backup", prefix: "p/" };

async function withTree(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-archive-reads-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Syncs, then labels every object GLACIER, as a lifecycle rule would. */
async function syncedInGlacier(dir: string, store: MemoryStore, endpoint: string): Promise<void> {
  Deno.writeTextFileSync(`${dir}/a.jpg`, "photo a");
  Deno.writeTextFileSync(`${dir}/b.jpg`, "photo b");
  await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store });
  for (const [key, object] of store.objects) store.put(key, { ...object, storageClass: "GLACIER" });
}

function readsOf(dir: string, endpoint: string): boolean | undefined {
  const state = StateStore.open(dir, { readOnly: true });
  try {
    return state.archiveReads(state.target({ endpoint, ...location }));
  } finally {
    state.close();
  }
}

Deno.test("on a server that serves archived objects, a rename is copied with its class, after one probe", async () => {
  await withTree(async (dir) => {
    const endpoint = "http://127.0.0.1:7480";
    const store = new MemoryStore({ servesArchived: true });
    await syncedInGlacier(dir, store, endpoint);
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/renamed.jpg`);
    const before = store.requestCounts();
    const report = await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store });
    assert.equal(report.outcome.moves.length, 1);
    assert.equal(report.deferred.length, 0);
    assert.equal(store.objects.get("p/renamed.jpg")?.storageClass, "GLACIER");
    assert.equal(store.objects.has("p/a.jpg"), false);
    assert.equal((store.requestCounts().GetObject ?? 0) - (before.GetObject ?? 0), 1);
    assert.equal(readsOf(dir, endpoint), true);

    // Known now: the next archived move is copied without asking again.
    Deno.renameSync(`${dir}/b.jpg`, `${dir}/b2.jpg`);
    const again = await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store });
    assert.equal(again.outcome.moves.length, 1);
    assert.equal(store.requestCounts().GetObject, 1);
  });
});

Deno.test("on a custom endpoint with S3's semantics, the move waits, after one probe, once", async () => {
  await withTree(async (dir) => {
    const endpoint = "http://127.0.0.1:5000";
    const store = new MemoryStore();
    await syncedInGlacier(dir, store, endpoint);
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/renamed.jpg`);
    const report = await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store });
    assert.equal(report.outcome.moves.length, 0);
    assert.deepEqual(report.deferred.map((move) => [move.from, move.to]), [[
      "a.jpg",
      "renamed.jpg",
    ]]);
    assert.equal(store.requestCounts().CopyObject ?? 0, 0);
    assert.equal(store.requestCounts().GetObject, 1);
    assert.equal(readsOf(dir, endpoint), false);
    const again = await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store });
    assert.equal(again.deferred.length, 1);
    assert.equal(store.requestCounts().GetObject, 1);
  });
});

Deno.test("on AWS itself the move waits without any probe", async () => {
  await withTree(async (dir) => {
    const store = new MemoryStore();
    await syncedInGlacier(dir, store, "");
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/renamed.jpg`);
    const report = await runTarget({ localDir: dir, location, endpoint: "", mode: "sync" }, {
      store,
    });
    assert.equal(report.deferred.length, 1);
    assert.equal(store.requestCounts().GetObject ?? 0, 0);
    assert.equal(readsOf(dir, ""), undefined);
  });
});

Deno.test("a dry run probes but does not note the answer", async () => {
  await withTree(async (dir) => {
    const endpoint = "http://127.0.0.1:7480";
    const store = new MemoryStore({ servesArchived: true });
    await syncedInGlacier(dir, store, endpoint);
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/renamed.jpg`);
    const report = await runTarget({ localDir: dir, location, endpoint, mode: "status" }, {
      store,
    });
    assert.equal(report.plan.moves.length, 1);
    assert.equal(readsOf(dir, endpoint), undefined);
  });
});

Deno.test("archivedMovesWait() keeps S3's semantics when the probe cannot tell", async () => {
  const store = new MemoryStore({ servesArchived: true });
  // The key is gone: the probe fails, nothing is learned.
  assert.deepEqual(
    await archivedMovesWait({ aws: false, known: undefined, store, probeKey: "p/gone" }),
    { wait: true },
  );
  assert.deepEqual(
    await archivedMovesWait({ aws: false, known: undefined, store, probeKey: undefined }),
    { wait: true },
  );
  assert.deepEqual(
    await archivedMovesWait({ aws: false, known: true, store, probeKey: "p/x" }),
    { wait: false },
  );
  assert.equal(store.requestCounts().GetObject, 1);
});

Deno.test("archivedSource() finds a displaced row of an archived object not yet restored", () => {
  const record = { path: "a.jpg", dev: 1, ino: 1n, size: 1, mtimeMs: 0, inS3: true };
  const listed = (storageClass?: string, restored?: boolean) => ({
    size: 1,
    lastModifiedMs: 0,
    storageClass,
    restored,
  });
  assert.equal(archivedSource({ displaced: [] }), undefined);
  assert.equal(
    archivedSource({ displaced: [{ record, listed: listed("STANDARD_IA"), replaced: false }] }),
    undefined,
  );
  assert.equal(
    archivedSource({ displaced: [{ record, listed: listed("GLACIER", true), replaced: false }] }),
    undefined,
  );
  assert.equal(
    archivedSource({ displaced: [{ record, listed: listed("DEEP_ARCHIVE"), replaced: false }] }),
    "a.jpg",
  );
  assert.equal(
    archivedSource({
      displaced: [{ record: { ...record, storageClass: "GLACIER" }, replaced: false }],
    }),
    "a.jpg",
  );
});

/**
 * A bucket without RestoreObject (501), holding `objects`; like Ceph RGW's when it serves
 * archived objects as they are (its archive classes are labels).
 */
class NoRestoreStore extends MemoryStore {
  constructor(objects: Map<string, StoredObject>, servesArchived: boolean) {
    super({ servesArchived });
    for (const [key, object] of objects) this.put(key, object);
  }

  override restore(): Promise<never> {
    return Promise.reject(
      Object.assign(new Error(""), { name: "NotImplemented", $metadata: { httpStatusCode: 501 } }),
    );
  }
}

/** `restore` of the target in `dir` against `store`, with --json. */
function restoreOn(dir: string, endpoint: string, store: MemoryStore) {
  return runRestore({
    target: { localDir: dir, url: "s3://backup/p/" },
    days: 7,
    tier: "Standard",
    dryRun: false,
    connection: { endpoint },
    json: true,
    quiet: true,
    verbose: false,
    logDir: `${dir}/.logs`,
    logRetentionDays: 30,
  }, {
    openStore: () => Promise.resolve(store),
    registry: { register() {}, targets: () => [] },
    aws: undefined as never,
  });
}

Deno.test("restore on a server without RestoreObject that serves the object: 'served as is', and the next sync moves it", async () => {
  await withTree(async (dir) => {
    const endpoint = "http://127.0.0.1:7480";
    // Deferred by an earlier version that never asked the server.
    const strict = new MemoryStore();
    await syncedInGlacier(dir, strict, endpoint);
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/renamed.jpg`);
    await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store: strict });
    const state = StateStore.open(dir);
    state.setArchiveReads(state.target({ endpoint, ...location })!, false);
    state.close();

    const rgw = new NoRestoreStore(strict.objects, true);
    const result = await restoreOn(dir, endpoint, rgw);
    assert.equal(result.exitCode, 0);
    const json = result.json as { failed: number; results: Array<{ outcome: string }> };
    assert.equal(json.failed, 0);
    assert.deepEqual(json.results.map((entry) => entry.outcome), ["not archived"]);
    assert.equal(readsOf(dir, endpoint), true);

    const report = await runTarget({
      localDir: dir,
      location,
      endpoint,
      mode: "sync",
      excludes: [".logs/*"],
    }, { store: rgw });
    assert.equal(report.outcome.moves.length, 1);
    assert.equal(report.deferred.length, 0);
    assert.equal(rgw.objects.get("p/renamed.jpg")?.storageClass, "GLACIER");
  });
});

Deno.test("restore on a server without RestoreObject that does not serve the object says so and fails", async () => {
  await withTree(async (dir) => {
    const endpoint = "http://127.0.0.1:7480";
    const strict = new MemoryStore();
    await syncedInGlacier(dir, strict, endpoint);
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/renamed.jpg`);
    await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store: strict });
    const result = await restoreOn(dir, endpoint, new NoRestoreStore(strict.objects, false));
    assert.equal(result.exitCode, 1);
    const json = result.json as { results: Array<{ outcome: string; message?: string }> };
    assert.equal(json.results[0]!.outcome, "failed");
    assert.match(
      json.results[0]!.message!,
      /cannot restore archived objects.*provider's own tools/,
    );
  });
});
