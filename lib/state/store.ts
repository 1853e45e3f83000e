/**
 * The SQLite state store (`node:sqlite`): for each target (endpoint + bucket + prefix),
 * what is known about every file of the synced directory, read as a stream in key order.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { withSlash } from "../fs.ts";
import {
  type DeferredMove,
  type DeferredRecord,
  type FileRecord,
  STATE_DB_NAME,
  type StateRecorder,
  type TargetKey,
} from "../model.ts";
import { RECORD_COLUMNS, recordOfRow, type RecordRow, storedInode } from "./codec.ts";
import { openStateDb } from "./open_db.ts";
import { SqliteRecorder } from "./recorder.ts";

export { SCHEMA_VERSION } from "./migrations.ts";
export { NullRecorder } from "./recorder.ts";

/** Path of the state DB kept in the root of a synced directory. */
export function statePathOf(localDir: string): string {
  return `${withSlash(localDir)}${STATE_DB_NAME}`;
}

/** Rows a page of {@linkcode StateStore.rows} holds. */
const PAGE_SIZE = 512;

/** How stale the recorded time of the last full listing may get before it is rewritten. */
const LISTING_TIME_STEP_MS = 3_600_000;

/**
 * The state database of one synced directory. Open it with {@linkcode StateStore.open}.
 *
 * @example
 * ```ts
 * const state = StateStore.open("/volume1/photos", { readOnly: true });
 * const target = state.target({ endpoint: "", bucket: "backup", prefix: "photos/" });
 * for (const page of state.rows(target)) console.log(page.length);
 * state.close();
 * ```
 */
export class StateStore {
  readonly #db: DatabaseSync;
  readonly #readOnly: boolean;
  #writes = 0;
  #page?: StatementSync;
  #inode?: StatementSync;

  private constructor(db: DatabaseSync, readOnly: boolean) {
    this.#db = db;
    this.#readOnly = readOnly;
  }

  /**
   * Opens (and creates or migrates) `.s3-smart-sync.db` in `directory`. With
   * `readOnly`, nothing is ever written: a missing database reads as empty.
   *
   * @throws {StateDbError} when the file is not a state DB or was written by a newer version.
   */
  static open(directory: string, options: { readOnly?: boolean } = {}): StateStore {
    return StateStore.openFile(statePathOf(directory), options);
  }

  /**
   * Opens (and creates or migrates) the state DB at `path`; see {@linkcode StateStore.open}.
   *
   * @throws {StateDbError} when the file is not a state DB or was written by a newer version.
   */
  static openFile(path: string, options: { readOnly?: boolean } = {}): StateStore {
    const readOnly = options.readOnly ?? false;
    return new StateStore(openStateDb(path, { readOnly }), readOnly);
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

  #targetColumn(targetId: number | undefined, column: string): number | undefined {
    if (targetId === undefined) return undefined;
    const row = this.#db.prepare(`SELECT ${column} AS value FROM targets WHERE id = ?`).get(
      targetId,
    ) as { value: number | null } | undefined;
    return row?.value === null || row?.value === undefined ? undefined : Number(row.value);
  }

  #setTargetColumn(targetId: number, column: string, value: number): void {
    if (this.#readOnly || this.#targetColumn(targetId, column) === value) return;
    this.#db.prepare(`UPDATE targets SET ${column} = ? WHERE id = ?`).run(value, targetId);
    this.#writes++;
  }

  /** The device number of the root directory recorded at the last run, if any. */
  rootDev(targetId: number | undefined): number | undefined {
    return this.#targetColumn(targetId, "root_dev");
  }

  /** Records the device number of the root directory. */
  setRootDev(targetId: number, dev: number): void {
    this.#setTargetColumn(targetId, "root_dev", dev);
  }

  /**
   * Whether the target's rows may still be keyed by names normalised to NFC (written
   * before schema v5), so that the planner moves such objects to the names as on disk.
   */
  nfcKeys(targetId: number | undefined): boolean {
    return this.#targetColumn(targetId, "nfc_keys") === 1;
  }

  /** Notes that every key of the target is now the name as on disk. */
  clearNfcKeys(targetId: number): void {
    this.#setTargetColumn(targetId, "nfc_keys", 0);
  }

  /**
   * Whether the target's server serves objects of archive classes without a restore
   * (true: Ceph RGW, where classes are labels; false: S3's semantics); undefined until a
   * run has tried.
   */
  archiveReads(targetId: number | undefined): boolean | undefined {
    const value = this.#targetColumn(targetId, "archive_reads");
    return value === undefined ? undefined : value === 1;
  }

  /** Notes whether the target's server serves archived objects (see {@linkcode archiveReads}). */
  setArchiveReads(targetId: number, reads: boolean): void {
    this.#setTargetColumn(targetId, "archive_reads", reads ? 1 : 0);
  }

  /** When the last full listing of the target was taken (ms since the epoch), if ever. */
  listedAt(targetId: number | undefined): number | undefined {
    return this.#targetColumn(targetId, "listed_at_ms");
  }

  /** The split points of the last full listing: keys to start parallel listing ranges at. */
  listSplits(targetId: number | undefined): string[] {
    if (targetId === undefined) return [];
    return (this.#db.prepare("SELECT key FROM list_splits WHERE target_id = ? ORDER BY key")
      .all(targetId) as Array<{ key: string }>).map((row) => row.key);
  }

  /**
   * Notes a full listing taken at `atMs`, with the split points for the next one. Both are
   * written only when they changed much — the time when the one recorded is over an hour
   * old, the split points when over a quarter differ — so that a run in which nothing
   * changed writes nothing. The time recorded is therefore up to an hour early, which
   * only makes runs that trust the state list a little sooner.
   */
  noteListing(targetId: number, listing: { atMs: number; splits: readonly string[] }): void {
    if (this.#readOnly) return;
    const recorded = this.listedAt(targetId);
    if (recorded === undefined || recorded < listing.atMs - LISTING_TIME_STEP_MS) {
      this.#setTargetColumn(targetId, "listed_at_ms", listing.atMs);
    }
    const old = this.listSplits(targetId);
    if (!splitsDrifted(old, listing.splits)) return;
    const insert = this.#db.prepare(
      "INSERT OR IGNORE INTO list_splits (target_id, key) VALUES (?, ?)",
    );
    this.#transaction(() => {
      this.#db.prepare("DELETE FROM list_splits WHERE target_id = ?").run(targetId);
      for (const key of listing.splits) insert.run(targetId, key);
    });
    this.#writes += old.length + listing.splits.length;
  }

  /** Whether a target has any row (without counting a million of them). */
  hasRows(targetId: number | undefined): boolean {
    if (targetId === undefined) return false;
    return this.#db.prepare("SELECT 1 FROM files WHERE target_id = ? LIMIT 1").get(targetId) !==
      undefined;
  }

  /**
   * The rows of a target in key order (by the UTF-8 bytes of the path, as S3 lists keys),
   * a page at a time, so that a million rows never sit in memory at once. Writing rows at
   * keys already read meanwhile is safe: each page starts after the last key read.
   */
  *rows(targetId: number | undefined): Generator<FileRecord[]> {
    if (targetId === undefined) return;
    this.#page ??= this.#prepareRows(
      `SELECT ${RECORD_COLUMNS} FROM files WHERE target_id = ? AND path > ? ORDER BY path LIMIT ?`,
    );
    let after = "";
    for (;;) {
      const rows = this.#page.all(targetId, after, PAGE_SIZE) as unknown as RecordRow[];
      if (rows.length === 0) return;
      yield rows.map(recordOfRow);
      if (rows.length < PAGE_SIZE) return;
      after = rows[rows.length - 1]![0];
    }
  }

  /** Every row of a target, by path (for tests and small tools; runs stream {@linkcode rows}). */
  load(targetId: number | undefined): Map<string, FileRecord> {
    const records = new Map<string, FileRecord>();
    for (const page of this.rows(targetId)) {
      for (const record of page) records.set(record.path, record);
    }
    return records;
  }

  /** The rows of a target whose file had inode `ino` (exact), whatever their path. */
  rowsWithInode(targetId: number | undefined, ino: bigint, limit = 64): FileRecord[] {
    if (targetId === undefined) return [];
    this.#inode ??= this.#prepareRows(
      `SELECT ${RECORD_COLUMNS} FROM files WHERE target_id = ? AND ino = ? LIMIT ?`,
    );
    return (this.#inode.all(targetId, storedInode(ino), limit) as unknown as RecordRow[]).map(
      recordOfRow,
    );
  }

  #prepareRows(sql: string): StatementSync {
    const statement = this.#db.prepare(sql) as StatementSync & {
      setReturnArrays(enabled: boolean): void;
    };
    // Arrays, not objects: three times faster on every row of every run. Big integers:
    // inode numbers use all 64 bits.
    statement.setReturnArrays(true);
    statement.setReadBigInts(true);
    return statement;
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
    return new SqliteRecorder(this.#db, {
      id: targetId,
      onWrite: (count) => this.#writes += count,
    });
  }

  /** Rows written through this store (all recorders included). */
  get writes(): number {
    return this.#writes;
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}

/** Whether stored split points are worth rewriting: more than a quarter differ. */
function splitsDrifted(old: readonly string[], fresh: readonly string[]): boolean {
  if (old.length === 0) return fresh.length > 0;
  const known = new Set(old);
  const kept = fresh.filter((key) => known.has(key)).length;
  return kept < Math.max(old.length, fresh.length) * 0.75;
}
