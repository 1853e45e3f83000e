/**
 * Recorders: how the executor writes what succeeded into the state DB, one transaction per
 * change, and the recorder of dry runs that writes nothing.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { StateChange, StateRecorder } from "../model.ts";
import { rowValuesOf } from "./codec.ts";

/** A recorder that writes nothing: used by dry runs and `status`. */
export class NullRecorder implements StateRecorder {
  /** Always 0. */
  readonly writes = 0;
  /** Does nothing. */
  apply(_change: StateChange): void {}
}

/** The statements a recorder of one target uses. */
interface Statements {
  upsert: StatementSync;
  forget: StatementSync;
  moved: StatementSync;
  forgetMoved: StatementSync;
  multipartStarted: StatementSync;
  multipartDone: StatementSync;
}

/**
 * Writes the changes of one target to the state DB, each in one transaction, and counts
 * the rows written (through `onWrite`, so that the store's total includes them).
 */
export class SqliteRecorder implements StateRecorder {
  #writes = 0;
  readonly #sql: Statements;

  constructor(
    private readonly db: DatabaseSync,
    private readonly target: { id: number; onWrite(count: number): void },
  ) {
    this.#sql = {
      upsert: db.prepare(
        `INSERT OR REPLACE INTO files (target_id, path, dev, ino, size, mtime_ms, in_s3, btime_ms,
           etag, storage_class, sse, moved_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      forget: db.prepare("DELETE FROM files WHERE target_id = ? AND path = ?"),
      moved: db.prepare("UPDATE files SET moved_to = ? WHERE target_id = ? AND path = ?"),
      forgetMoved: db.prepare(
        "DELETE FROM files WHERE target_id = ? AND path = ? AND moved_to IS NOT NULL",
      ),
      multipartStarted: db.prepare(
        "INSERT OR REPLACE INTO multipart_uploads (target_id, key, started_ms) VALUES (?, ?, ?)",
      ),
      multipartDone: db.prepare("DELETE FROM multipart_uploads WHERE target_id = ? AND key = ?"),
    };
  }

  get writes(): number {
    return this.#writes;
  }

  multipart(key: string, state: "started" | "done"): void {
    if (state === "started") this.#sql.multipartStarted.run(this.target.id, key, Date.now());
    else this.#sql.multipartDone.run(this.target.id, key);
    this.#count(1);
  }

  apply(change: StateChange): void {
    const upserts = change.upsert ?? [];
    const forgets = change.forget ?? [];
    const moved = change.moved ?? [];
    const forgetMoved = change.forgetMoved ?? [];
    const count = upserts.length + forgets.length + moved.length + forgetMoved.length;
    if (count === 0) return;
    const id = this.target.id;
    const sql = this.#sql;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const path of forgets) sql.forget.run(id, path);
      for (const record of upserts) sql.upsert.run(id, ...rowValuesOf(record));
      for (const { path, to } of moved) sql.moved.run(to, id, path);
      for (const path of forgetMoved) sql.forgetMoved.run(id, path);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
    this.#count(count);
  }

  #count(count: number): void {
    this.#writes += count;
    this.target.onWrite(count);
  }
}
