/**
 * Opening a state DB file: created owner-only when missing (or, read-only, an empty one
 * in memory), migrated to the current schema, and refused with a sentence that names the
 * file and the way out when it is damaged, foreign or newer than this version.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { exists } from "../fs.ts";
import { StateDbError } from "./errors.ts";
import { migrate } from "./migrations.ts";

/**
 * Opens the state DB at `path`, migrated; WAL mode unless read-only.
 *
 * @throws {StateDbError} when the file is not a state DB or was written by a newer version.
 *
 * @example
 * ```ts
 * const db = openStateDb("/volume1/photos/.s3-smart-sync.db", { readOnly: true });
 * db.close();
 * ```
 */
export function openStateDb(path: string, options: { readOnly: boolean }): DatabaseSync {
  const { readOnly } = options;
  let db: DatabaseSync;
  if (readOnly) {
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
    migrate(db, { path, readOnly });
    checkSchema(db, path);
    // After the version check, so that a newer version's database is left untouched.
    if (!readOnly) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StateDbError) throw error;
    throw new StateDbError(
      `State database "${path}" cannot be used: ${
        (error as Error).message
      }. If it is damaged or not s3-smart-sync's, move it aside: the next run adopts what is already in S3 (nothing is uploaded again), but renames made before that run are uploaded instead of moved.`,
    );
  }
}

/**
 * Throws when the file is a SQLite DB of some other program (its `files` table is missing
 * or lacks our columns), so that a foreign DB is named instead of failing later.
 */
function checkSchema(db: DatabaseSync, path: string): void {
  const columns = new Set(
    (db.prepare("PRAGMA table_info(files)").all() as Array<{ name: string }>).map((row) =>
      row.name
    ),
  );
  for (const column of ["path", "ino", "in_s3", "etag", "moved_to"]) {
    if (!columns.has(column)) {
      throw new StateDbError(
        `"${path}" is not an s3-smart-sync state database (its "files" table has no "${column}" column). Move it aside: the next run adopts what is already in S3.`,
      );
    }
  }
}
