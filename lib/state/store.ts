/**
 * The SQLite state store (`node:sqlite`): for each target (endpoint + bucket +
 * prefix), what is known about every file of the synced directory.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  type DeferredMove,
  type DeferredRecord,
  type FileRecord,
  STATE_DB_NAME,
  type StateChange,
  type StateRecorder,
  type TargetKey,
} from "../model.ts";
import { exists, withSlash } from "../fs.ts";

/** A recorder that writes nothing: used by dry runs and `status`. */
export class NullRecorder implements StateRecorder {
  /** Always 0. */
  readonly writes = 0;
  /** Does nothing. */
  apply(_change: StateChange): void {}
}

/** Path of the state DB kept in the root of a synced directory. */
export function statePathOf(localDir: string): string {
  return `${withSlash(localDir)}${STATE_DB_NAME}`;
}

/** Schema migrations; `PRAGMA user_version` holds how many have been applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE targets (
     id INTEGER PRIMARY KEY,
     endpoint TEXT NOT NULL,
     bucket TEXT NOT NULL,
     prefix TEXT NOT NULL,
     root_dev INTEGER,
     UNIQUE (endpoint, bucket, prefix)
   );
   CREATE TABLE files (
     target_id INTEGER NOT NULL REFERENCES targets(id),
     path TEXT NOT NULL,
     dev INTEGER NOT NULL,
     ino INTEGER NOT NULL,
     size INTEGER NOT NULL,
     mtime_ms REAL NOT NULL,
     in_s3 INTEGER NOT NULL,
     PRIMARY KEY (target_id, path)
   ) WITHOUT ROWID;`,
  // v2: moves that wait for an archived object to be restored.
  `CREATE TABLE deferred_moves (
     target_id INTEGER NOT NULL REFERENCES targets(id),
     from_key TEXT NOT NULL,
     to_key TEXT NOT NULL,
     size INTEGER NOT NULL,
     storage_class TEXT,
     reason TEXT NOT NULL,
     first_deferred_ms INTEGER NOT NULL,
     restore_requested_ms INTEGER,
     PRIMARY KEY (target_id, from_key)
   ) WITHOUT ROWID;`,
  // v3: multipart uploads under way, so that a run that dies leaves none open for long.
  `CREATE TABLE multipart_uploads (
     target_id INTEGER NOT NULL REFERENCES targets(id),
     key TEXT NOT NULL,
     started_ms INTEGER NOT NULL,
     PRIMARY KEY (target_id, key)
   ) WITHOUT ROWID;`,
  // v4: birth times, which tell a reused inode from a renamed file.
  `ALTER TABLE files ADD COLUMN btime_ms REAL;`,
  // v5: keys are the names as on disk. Rows written before were keyed by the name
  // normalised to NFC; such targets are marked until a run has moved their objects.
  `ALTER TABLE targets ADD COLUMN nfc_keys INTEGER NOT NULL DEFAULT 0;
   UPDATE targets SET nfc_keys = 1;`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

interface FileRow {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtime_ms: number;
  in_s3: number;
  btime_ms: number | null;
}

/**
 * The state database of one synced directory. Open it with {@linkcode StateStore.open}.
 *
 * @example
 * ```ts
 * const state = StateStore.open("/volume1/photos");
 * const target = state.target({ endpoint: "", bucket: "backup", prefix: "photos/" });
 * const previous = state.load(target);
 * state.close();
 * ```
 */
export class StateStore {
  readonly #db: DatabaseSync;
  readonly #readOnly: boolean;
  #writes = 0;

  private constructor(db: DatabaseSync, readOnly: boolean) {
    this.#db = db;
    this.#readOnly = readOnly;
  }

  /**
   * Opens (and creates or migrates) `.s3-smart-sync.db` in `directory`. With
   * `readOnly`, nothing is ever written: a missing database reads as empty.
   *
   * @throws {Error} when the file is not a database or was written by a newer version.
   */
  static open(directory: string, options: { readOnly?: boolean } = {}): StateStore {
    return StateStore.openFile(statePathOf(directory), options);
  }

  /**
   * Opens (and creates or migrates) the state DB at `path`; see {@linkcode StateStore.open}.
   *
   * @throws {Error} when the file is not a database or was written by a newer version.
   */
  static openFile(path: string, options: { readOnly?: boolean } = {}): StateStore {
    let db: DatabaseSync;
    if (options.readOnly) {
      db = exists(path) ? new DatabaseSync(path, { readOnly: true }) : new DatabaseSync(":memory:");
    } else {
      if (!exists(path)) {
        // Created by us with owner-only permissions before SQLite opens it.
        Deno.writeFileSync(path, new Uint8Array(), { mode: 0o600, createNew: true });
      }
      db = new DatabaseSync(path);
    }
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      const store = new StateStore(db, options.readOnly ?? false);
      store.#migrate(path, options.readOnly ?? false);
      // After the version check, so that a newer version's database is left untouched.
      if (!options.readOnly) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  #migrate(path: string, readOnly: boolean): void {
    const version = Number(
      (this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `State database "${path}" has schema version ${version}, newer than this s3-smart-sync understands (${SCHEMA_VERSION}). Upgrade s3-smart-sync.`,
      );
    }
    if (version === SCHEMA_VERSION) return;
    if (readOnly && version > 0) {
      throw new Error(
        `State database "${path}" has schema version ${version}; run "sync" or "moves" once to upgrade it to ${SCHEMA_VERSION}.`,
      );
    }
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (let index = version; index < SCHEMA_VERSION; index++) this.#db.exec(MIGRATIONS[index]!);
      this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * The id of a target, created on first use. Returns undefined for a target
   * that was never synced when the store is read-only.
   */
  target(key: TargetKey): number | undefined {
    const select = this.#db.prepare(
      "SELECT id FROM targets WHERE endpoint = ? AND bucket = ? AND prefix = ?",
    );
    const found = select.get(key.endpoint, key.bucket, key.prefix) as { id: number } | undefined;
    if (found) return Number(found.id);
    if (this.#readOnly) return undefined;
    this.#db.prepare("INSERT INTO targets (endpoint, bucket, prefix) VALUES (?, ?, ?)")
      .run(key.endpoint, key.bucket, key.prefix);
    this.#writes++;
    return Number((select.get(key.endpoint, key.bucket, key.prefix) as { id: number }).id);
  }

  /** The device number of the root directory recorded at the last run, if any. */
  rootDev(targetId: number | undefined): number | undefined {
    if (targetId === undefined) return undefined;
    const row = this.#db.prepare("SELECT root_dev FROM targets WHERE id = ?").get(targetId) as
      | { root_dev: number | null }
      | undefined;
    return row?.root_dev ?? undefined;
  }

  /** Records the device number of the root directory. */
  setRootDev(targetId: number, dev: number): void {
    if (this.#readOnly || this.rootDev(targetId) === dev) return;
    this.#db.prepare("UPDATE targets SET root_dev = ? WHERE id = ?").run(dev, targetId);
    this.#writes++;
  }

  /**
   * Whether the target's rows may still be keyed by names normalised to NFC (written
   * before schema v5), so that the planner moves such objects to the names as on disk.
   */
  nfcKeys(targetId: number | undefined): boolean {
    if (targetId === undefined) return false;
    const row = this.#db.prepare("SELECT nfc_keys FROM targets WHERE id = ?").get(targetId) as
      | { nfc_keys: number }
      | undefined;
    return Number(row?.nfc_keys ?? 0) === 1;
  }

  /** Notes that every key of the target is now the name as on disk. */
  clearNfcKeys(targetId: number): void {
    if (this.#readOnly || !this.nfcKeys(targetId)) return;
    this.#db.prepare("UPDATE targets SET nfc_keys = 0 WHERE id = ?").run(targetId);
    this.#writes++;
  }

  /** All recorded files of a target, by path. */
  load(targetId: number | undefined): Map<string, FileRecord> {
    const records = new Map<string, FileRecord>();
    if (targetId === undefined) return records;
    const statement = this.#db.prepare(
      "SELECT path, dev, ino, size, mtime_ms, in_s3, btime_ms FROM files WHERE target_id = ?",
    ) as StatementSync & { setReturnArrays?(enabled: boolean): void };
    // Rows as arrays load about three times faster than rows as objects (200,000 rows:
    // 0.22 s against 0.66 s), and this runs on every sync.
    if (statement.setReturnArrays) {
      statement.setReturnArrays(true);
      const rows = statement.all(targetId) as unknown as Array<
        [string, number, number, number, number, number, number | null]
      >;
      for (const [path, dev, ino, size, mtimeMs, inS3, btimeMs] of rows) {
        const record: FileRecord = { path, dev, ino, size, mtimeMs, inS3: inS3 === 1 };
        if (btimeMs !== null) record.btimeMs = btimeMs;
        records.set(path, record);
      }
      return records;
    }
    for (const row of statement.iterate(targetId) as Iterable<FileRow>) {
      records.set(row.path, {
        path: row.path,
        dev: Number(row.dev),
        ino: Number(row.ino),
        size: Number(row.size),
        mtimeMs: Number(row.mtime_ms),
        inS3: row.in_s3 === 1,
        ...(row.btime_ms === null ? {} : { btimeMs: Number(row.btime_ms) }),
      });
    }
    return records;
  }

  /** The moves of a target that wait for a restore. */
  deferredMoves(targetId: number | undefined): DeferredRecord[] {
    if (targetId === undefined) return [];
    const rows = this.#db.prepare(
      `SELECT from_key, to_key, size, storage_class, reason, first_deferred_ms, restore_requested_ms
       FROM deferred_moves WHERE target_id = ? ORDER BY from_key`,
    ).all(targetId) as Array<{
      from_key: string;
      to_key: string;
      size: number;
      storage_class: string | null;
      reason: string;
      first_deferred_ms: number;
      restore_requested_ms: number | null;
    }>;
    return rows.map((row) => ({
      from: row.from_key,
      to: row.to_key,
      size: Number(row.size),
      storageClass: row.storage_class ?? undefined,
      reason: row.reason,
      firstDeferredMs: Number(row.first_deferred_ms),
      restoreRequestedMs: row.restore_requested_ms === null
        ? undefined
        : Number(row.restore_requested_ms),
    }));
  }

  /**
   * Makes `moves` the deferred moves of a target: new ones are added with `nowMs` as
   * their first deferral, known ones keep their dates, and the rest (completed, or no
   * longer wanted) are removed. Writes nothing when nothing changed. Returns the records.
   */
  saveDeferred(
    targetId: number,
    update: { moves: readonly DeferredMove[]; nowMs: number },
  ): DeferredRecord[] {
    const known = new Map(this.deferredMoves(targetId).map((record) => [record.from, record]));
    const wanted = new Map(update.moves.map((move) => [move.from, move]));
    const records: DeferredRecord[] = [];
    const upserts: DeferredRecord[] = [];
    for (const move of wanted.values()) {
      const old = known.get(move.from);
      const record: DeferredRecord = {
        ...move,
        firstDeferredMs: old?.firstDeferredMs ?? update.nowMs,
        restoreRequestedMs: old?.restoreRequestedMs,
      };
      records.push(record);
      if (
        !old || old.to !== move.to || old.size !== move.size ||
        old.storageClass !== move.storageClass || old.reason !== move.reason
      ) upserts.push(record);
    }
    const removals = [...known.keys()].filter((from) => !wanted.has(from));
    if (upserts.length === 0 && removals.length === 0) return records;
    const upsert = this.#db.prepare(
      `INSERT OR REPLACE INTO deferred_moves
       (target_id, from_key, to_key, size, storage_class, reason, first_deferred_ms, restore_requested_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const remove = this.#db.prepare(
      "DELETE FROM deferred_moves WHERE target_id = ? AND from_key = ?",
    );
    this.#transaction(() => {
      for (const record of upserts) {
        upsert.run(
          targetId,
          record.from,
          record.to,
          record.size,
          record.storageClass ?? null,
          record.reason,
          record.firstDeferredMs,
          record.restoreRequestedMs ?? null,
        );
      }
      for (const from of removals) remove.run(targetId, from);
    });
    this.#writes += upserts.length + removals.length;
    return records;
  }

  /** Full keys of multipart uploads a previous run started and did not finish. */
  openMultipartUploads(targetId: number | undefined): string[] {
    if (targetId === undefined) return [];
    return (this.#db.prepare("SELECT key FROM multipart_uploads WHERE target_id = ?").all(
      targetId,
    ) as Array<{ key: string }>).map((row) => row.key);
  }

  /** Notes or clears a multipart upload of a target (see {@linkcode StateRecorder.multipart}). */
  noteMultipart(targetId: number, update: { key: string; state: "started" | "done" }): void {
    if (this.#readOnly) return;
    if (update.state === "started") {
      this.#db.prepare(
        "INSERT OR REPLACE INTO multipart_uploads (target_id, key, started_ms) VALUES (?, ?, ?)",
      ).run(targetId, update.key, Date.now());
    } else {
      this.#db.prepare("DELETE FROM multipart_uploads WHERE target_id = ? AND key = ?").run(
        targetId,
        update.key,
      );
    }
    this.#writes++;
  }

  /** Notes that `restore` asked S3 to restore these sources (keys relative to the prefix). */
  markRestoreRequested(targetId: number, update: { from: readonly string[]; nowMs: number }): void {
    if (this.#readOnly || update.from.length === 0) return;
    const statement = this.#db.prepare(
      "UPDATE deferred_moves SET restore_requested_ms = ? WHERE target_id = ? AND from_key = ?",
    );
    this.#transaction(() => {
      for (const from of update.from) statement.run(update.nowMs, targetId, from);
    });
    this.#writes += update.from.length;
  }

  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** A recorder that writes the changes of one target to this store. */
  recorder(targetId: number): StateRecorder {
    const upsert = this.#db.prepare(
      "INSERT OR REPLACE INTO files (target_id, path, dev, ino, size, mtime_ms, in_s3, btime_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const forget = this.#db.prepare("DELETE FROM files WHERE target_id = ? AND path = ?");
    return new SqliteRecorder(this, { db: this.#db, targetId, upsert, forget });
  }

  /** Rows written through this store (all recorders included). */
  get writes(): number {
    return this.#writes;
  }

  /** @internal counts writes made by a recorder. */
  countWrites(count: number): void {
    this.#writes += count;
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}

class SqliteRecorder implements StateRecorder {
  #writes = 0;
  constructor(
    private readonly store: StateStore,
    private readonly sql: {
      db: DatabaseSync;
      targetId: number;
      upsert: StatementSync;
      forget: StatementSync;
    },
  ) {}

  get writes(): number {
    return this.#writes;
  }

  multipart(key: string, state: "started" | "done"): void {
    this.store.noteMultipart(this.sql.targetId, { key, state });
  }

  apply(change: StateChange): void {
    const upserts = change.upsert ?? [];
    const forgets = change.forget ?? [];
    if (upserts.length === 0 && forgets.length === 0) return;
    const { db, targetId, upsert, forget } = this.sql;
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const path of forgets) forget.run(targetId, path);
      for (const record of upserts) {
        upsert.run(
          targetId,
          record.path,
          record.dev,
          record.ino,
          record.size,
          record.mtimeMs,
          record.inS3 ? 1 : 0,
          record.btimeMs ?? null,
        );
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    const count = upserts.length + forgets.length;
    this.#writes += count;
    this.store.countWrites(count);
  }
}
