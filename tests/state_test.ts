import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { NullRecorder, SCHEMA_VERSION, StateStore } from "../lib/state/store.ts";
import { MIGRATIONS } from "../lib/state/migrations.ts";

/** Applies the first `version` migrations, as a DB of that version was left. */
function migrateTo(db: DatabaseSync, version: number): void {
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  db.exec(`PRAGMA user_version = ${version}`);
}
import { type FileRecord, STATE_DB_NAME } from "../lib/model.ts";

const TARGET = { endpoint: "", bucket: "backup", prefix: "photos/" };

function record(path: string, ino: number | bigint, extra: Partial<FileRecord> = {}): FileRecord {
  return {
    path,
    dev: 2049,
    ino: BigInt(ino),
    size: 100,
    mtimeMs: 1_700_000_000_000,
    inS3: true,
    ...extra,
  };
}

async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-state-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function userVersion(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
  } finally {
    db.close();
  }
}

Deno.test("StateStore.open() creates the state DB owner-only with the schema version", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    store.close();
    const path = `${dir}/${STATE_DB_NAME}`;
    const info = Deno.statSync(path);
    assert.ok(info.isFile);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.ok(SCHEMA_VERSION >= 1);
    assert.equal(userVersion(path), SCHEMA_VERSION);
  });
});

Deno.test("StateStore.open() accepts a directory given with a trailing slash", async () => {
  await withTempDir((dir) => {
    StateStore.open(`${dir}/`).close();
    assert.ok(Deno.statSync(`${dir}/${STATE_DB_NAME}`).isFile);
  });
});

Deno.test("StateStore keeps records until forgotten, across reopening", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    const id = store.target(TARGET)!;
    const records = [
      record("a.jpg", 1),
      record("dir/é b.jpg", 2 ** 40 + 3, { dev: 2 ** 33, size: 5 * 2 ** 40, inS3: false }),
      record("c", 3, { mtimeMs: 1_700_000_000_123.456 }),
    ];
    store.recorder(id).apply({ upsert: records });
    store.close();

    const again = StateStore.open(dir);
    const sameId = again.target(TARGET)!;
    assert.equal(sameId, id);
    assert.deepEqual(again.load(sameId), new Map(records.map((r) => [r.path, r])));
    const recorder = again.recorder(sameId);
    recorder.apply({ forget: ["a.jpg"], upsert: [record("c", 33, { size: 7 })] });
    assert.deepEqual(
      [...again.load(sameId).values()].map((r) => [r.path, r.ino, r.size]).sort(),
      [["c", 33n, 7], ["dir/é b.jpg", 2n ** 40n + 3n, 5 * 2 ** 40]],
    );
    again.close();
  });
});

Deno.test("StateStore keeps targets of one directory apart", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    const keys = [
      TARGET,
      { ...TARGET, bucket: "other" },
      { ...TARGET, prefix: "" },
      { ...TARGET, endpoint: "http://minio.local:9000" },
    ];
    const ids = keys.map((key) => store.target(key)!);
    assert.equal(new Set(ids).size, keys.length);
    ids.forEach((id, i) => store.recorder(id).apply({ upsert: [record(`only-${i}`, i)] }));
    ids.forEach((id, i) => assert.deepEqual([...store.load(id).keys()], [`only-${i}`]));
    assert.deepEqual(keys.map((key) => store.target(key)), ids, "ids are stable");
    store.close();
  });
});

Deno.test("StateStore counts the rows written by recorders and target creation", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    assert.equal(store.writes, 0);
    const id = store.target(TARGET)!;
    assert.equal(store.writes, 1);
    store.target(TARGET);
    assert.equal(store.writes, 1, "finding an existing target writes nothing");
    const recorder = store.recorder(id);
    recorder.apply({ upsert: [record("a", 1), record("b", 2)] });
    recorder.apply({ forget: ["a"] });
    recorder.apply({});
    assert.equal(recorder.writes, 3);
    assert.equal(store.writes, 4);
    store.setRootDev(id, 77);
    store.setRootDev(id, 77);
    assert.equal(store.rootDev(id), 77);
    assert.equal(store.writes, 5, "an unchanged root device is not written again");
    store.close();
  });
});

Deno.test("NullRecorder writes nothing", () => {
  const recorder = new NullRecorder();
  recorder.apply({ upsert: [record("a", 1)], forget: ["b"] });
  assert.equal(recorder.writes, 0);
});

Deno.test("a read-only StateStore of a missing DB creates no file and reads empty", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir, { readOnly: true });
    const id = store.target(TARGET);
    assert.equal(id, undefined);
    assert.deepEqual(store.load(id), new Map());
    assert.equal(store.rootDev(id), undefined);
    assert.equal(store.writes, 0);
    store.close();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("a read-only StateStore returns undefined for a target never synced", async () => {
  await withTempDir((dir) => {
    const writer = StateStore.open(dir);
    const id = writer.target(TARGET)!;
    writer.recorder(id).apply({ upsert: [record("a", 1)] });
    writer.setRootDev(id, 9);
    writer.close();

    const reader = StateStore.open(dir, { readOnly: true });
    assert.equal(reader.target({ ...TARGET, bucket: "unknown" }), undefined);
    assert.equal(reader.target(TARGET), id);
    assert.deepEqual([...reader.load(id).keys()], ["a"]);
    assert.equal(reader.rootDev(id), 9);
    assert.equal(reader.writes, 0);
    reader.close();

    const check = StateStore.open(dir);
    assert.notEqual(check.target({ ...TARGET, bucket: "unknown" }), undefined);
    assert.equal(check.writes, 1, "the read-only store did not create the unknown target");
    check.close();
  });
});

Deno.test("StateStore.open() refuses a DB written by a newer version, naming both versions", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/${STATE_DB_NAME}`;
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    for (const readOnly of [false, true]) {
      assert.throws(() => StateStore.open(dir, { readOnly }), (error: Error) => {
        assert.match(error.message, /newer/);
        assert.match(error.message, new RegExp(`version ${SCHEMA_VERSION + 5}\\b`));
        assert.ok(error.message.includes(String(SCHEMA_VERSION)));
        assert.ok(error.message.includes(path));
        return true;
      });
    }
    assert.equal(userVersion(path), SCHEMA_VERSION + 5, "the newer DB is left untouched");
  });
});

Deno.test("StateStore.open() refuses a file that is not a database", async () => {
  await withTempDir((dir) => {
    Deno.writeTextFileSync(`${dir}/${STATE_DB_NAME}`, "this is not sqlite, just text ".repeat(40));
    assert.throws(() => StateStore.open(dir));
  });
});

Deno.test("StateStore.open() migrates a v4 DB, marking its targets as keyed by NFC names", async () => {
  await withTempDir((dir) => {
    // The schema as version 4 left it, with one target and a row keyed by an NFC name.
    const db = new DatabaseSync(`${dir}/${STATE_DB_NAME}`);
    db.exec(`CREATE TABLE targets (id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL,
               bucket TEXT NOT NULL, prefix TEXT NOT NULL, root_dev INTEGER,
               UNIQUE (endpoint, bucket, prefix));
             CREATE TABLE files (target_id INTEGER NOT NULL REFERENCES targets(id),
               path TEXT NOT NULL, dev INTEGER NOT NULL, ino INTEGER NOT NULL,
               size INTEGER NOT NULL, mtime_ms REAL NOT NULL, in_s3 INTEGER NOT NULL,
               btime_ms REAL, PRIMARY KEY (target_id, path)) WITHOUT ROWID;
             CREATE TABLE deferred_moves (target_id INTEGER NOT NULL, from_key TEXT NOT NULL,
               to_key TEXT NOT NULL, size INTEGER NOT NULL, storage_class TEXT,
               reason TEXT NOT NULL, first_deferred_ms INTEGER NOT NULL,
               restore_requested_ms INTEGER, PRIMARY KEY (target_id, from_key)) WITHOUT ROWID;
             CREATE TABLE multipart_uploads (target_id INTEGER NOT NULL, key TEXT NOT NULL,
               started_ms INTEGER NOT NULL, PRIMARY KEY (target_id, key)) WITHOUT ROWID;
             INSERT INTO targets (endpoint, bucket, prefix) VALUES ('', 'backup', 'photos/');
             INSERT INTO files VALUES (1, 'caf\u00e9.txt', 2049, 5, 100, 1700000000000, 1, NULL);
             PRAGMA user_version = 4;`);
    db.close();
    const store = StateStore.open(dir);
    const id = store.target(TARGET)!;
    assert.equal(store.nfcKeys(id), true);
    assert.deepEqual([...store.load(id).keys()], ["café.txt"]);
    store.clearNfcKeys(id);
    assert.equal(store.nfcKeys(id), false);
    // A target created now has its keys as on disk from the start.
    assert.equal(store.nfcKeys(store.target({ ...TARGET, prefix: "new/" })), false);
    store.close();
    assert.equal(userVersion(`${dir}/${STATE_DB_NAME}`), SCHEMA_VERSION);
  });
});

Deno.test("migrating to v8 gives rows of files on the root's own file system device 0", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/${STATE_DB_NAME}`;
    const db = new DatabaseSync(path);
    // The schema as version 7 left it, by the migrations themselves.
    migrateTo(db, 7);
    db.exec(
      `INSERT INTO targets (endpoint, bucket, prefix, root_dev) VALUES ('', 'backup', 'photos/', 2049);
             INSERT INTO targets (endpoint, bucket, prefix) VALUES ('', 'backup', 'other/');
             INSERT INTO files (target_id, path, dev, ino, size, mtime_ms, in_s3)
               VALUES (1, 'root.jpg', 2049, 5, 1, 0, 1), (1, 'usb/mounted.jpg', 2065, 6, 1, 0, 1),
                      (2, 'unknown-root.jpg', 2049, 7, 1, 0, 1);`,
    );
    db.close();
    const store = StateStore.open(dir);
    const devs = (prefix: string) =>
      [...store.load(store.target({ ...TARGET, prefix })!).values()].map((r) => [r.path, r.dev]);
    assert.deepEqual(devs("photos/"), [["root.jpg", 0], ["usb/mounted.jpg", 2065]]);
    assert.deepEqual(devs("other/"), [["unknown-root.jpg", 2049]]);
    store.close();
  });
});

Deno.test("StateStore keeps 64-bit inodes exact, with the object's facts and moved marks", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    const id = store.target(TARGET)!;
    const records = [
      record("a", 2n ** 64n - 1n, { etag: '"e1"', storageClass: "DEEP_ARCHIVE", sse: "" }),
      record("b", 2n ** 63n + 5n, { sse: "aws:kms|arn:aws:kms:eu-west-1:1:key/k" }),
      record("c", 2n ** 63n + 6n, { movedTo: "d" }),
      record("d", 2n ** 53n + 1n),
    ];
    const recorder = store.recorder(id);
    recorder.apply({ upsert: records });
    assert.deepEqual(store.load(id), new Map(records.map((r) => [r.path, r])));
    assert.deepEqual(store.rowsWithInode(id, 2n ** 63n + 5n).map((r) => r.path), ["b"]);
    assert.deepEqual(store.rowsWithInode(id, 2n ** 63n + 7n), []);
    recorder.apply({ moved: [{ path: "d", to: "e" }], forgetMoved: ["c", "a"] });
    assert.deepEqual([...store.load(id).keys()], ["a", "b", "d"], "only the moved row c went");
    assert.equal(store.load(id).get("d")!.movedTo, "e");
    store.close();
  });
});

Deno.test("StateStore streams rows in S3 key order, a page at a time", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    const id = store.target(TARGET)!;
    const names: string[] = [];
    for (let i = 0; i < 9000; i++) names.push(`f${i}`);
    names.push("a.txt", "a/b", "a0", "é", "😀", "\uE000");
    store.recorder(id).apply({ upsert: names.map((name, i) => record(name, i)) });
    const pages = [...store.rows(id)];
    assert.ok(pages.length >= 3, "several pages");
    const keys = pages.flat().map((r) => r.path);
    const bytes = (key: string) => [...new TextEncoder().encode(key)];
    const sorted = [...names].sort((a, b) => {
      const x = bytes(a), y = bytes(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        if (x[i] !== y[i]) return x[i]! - y[i]!;
      }
      return x.length - y.length;
    });
    assert.deepEqual(keys, sorted);
    assert.equal(keys.length, names.length);
    assert.ok(store.hasRows(id));
    assert.equal(store.hasRows(id + 1), false);
    store.close();
  });
});

Deno.test("StateStore notes the last full listing to the hour, and its split points", async () => {
  await withTempDir((dir) => {
    const store = StateStore.open(dir);
    const id = store.target(TARGET)!;
    assert.equal(store.listedAt(id), undefined);
    store.noteListing(id, { atMs: 1_000_000_000, splits: ["photos/a", "photos/b"] });
    const writes = store.writes;
    store.noteListing(id, { atMs: 1_000_000_000 + 60_000, splits: ["photos/a", "photos/b"] });
    assert.equal(store.writes, writes, "a listing a minute later writes nothing");
    assert.equal(store.listedAt(id), 1_000_000_000);
    store.noteListing(id, { atMs: 1_000_000_000 + 7_200_000, splits: ["photos/c"] });
    assert.equal(store.listedAt(id), 1_000_000_000 + 7_200_000);
    assert.deepEqual(store.listSplits(id), ["photos/c"]);
    store.close();
  });
});

Deno.test("StateStore names a file of another program and says to move it aside", async () => {
  await withTempDir((dir) => {
    const db = new DatabaseSync(`${dir}/${STATE_DB_NAME}`);
    db.exec(`CREATE TABLE files (name TEXT); PRAGMA user_version = ${SCHEMA_VERSION};`);
    db.close();
    assert.throws(() => StateStore.open(dir), (error: Error) => {
      assert.equal(error.name, "StateDbError");
      assert.match(error.message, /is not an s3-smart-sync state database.*Move it aside/);
      assert.ok(error.message.includes(`${dir}/${STATE_DB_NAME}`));
      return true;
    });
  });
});
