/**
 * The state DB's schema, as migrations: `PRAGMA user_version` holds how many have been
 * applied, and opening a DB applies the rest in one transaction.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { StateDbError } from "./errors.ts";

/** Schema migrations, oldest first: a DB of version N has had the first N applied. */
export const MIGRATIONS: readonly string[] = [
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
  // v6: what a move needs to copy without reading the object first (ETag, storage class,
  // encryption), moves whose copy is done and whose source key waits to be deleted, an
  // index to find a file's old row by inode, and the last full listing with its split
  // points, for runs that trust the state and for parallel listings.
  `ALTER TABLE files ADD COLUMN etag TEXT;
   ALTER TABLE files ADD COLUMN storage_class TEXT;
   ALTER TABLE files ADD COLUMN sse TEXT;
   ALTER TABLE files ADD COLUMN moved_to TEXT;
   CREATE INDEX files_by_inode ON files (target_id, ino);
   ALTER TABLE targets ADD COLUMN listed_at_ms INTEGER;
   CREATE TABLE list_splits (
     target_id INTEGER NOT NULL REFERENCES targets(id),
     key TEXT NOT NULL,
     PRIMARY KEY (target_id, key)
   ) WITHOUT ROWID;`,
  // v7: whether the target's server serves objects of archive classes as they are (Ceph
  // RGW keeps classes as labels), so that moves of such objects are copied, not deferred.
  `ALTER TABLE targets ADD COLUMN archive_reads INTEGER;`,
  // v8: rows of files on the root's own file system keep device 0 ("the root's") instead
  // of the root's number, which a remount or the next snapshot of a volume changes.
  `UPDATE files SET dev = 0
     WHERE dev = (SELECT root_dev FROM targets WHERE targets.id = files.target_id);`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the DB at `path` to {@linkcode SCHEMA_VERSION}.
 *
 * @throws {StateDbError} when the DB is newer than this version, or is older and may not
 *   be written (`readOnly`).
 */
export function migrate(db: DatabaseSync, options: { path: string; readOnly: boolean }): void {
  const { path, readOnly } = options;
  const version = Number(
    (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
  );
  if (version > SCHEMA_VERSION) {
    throw new StateDbError(
      `State database "${path}" has schema version ${version}, newer than this s3-smart-sync understands (${SCHEMA_VERSION}). Upgrade s3-smart-sync.`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  if (readOnly && version > 0) {
    throw new StateDbError(
      `State database "${path}" has schema version ${version}; run "sync" or "moves" once to upgrade it to ${SCHEMA_VERSION}.`,
    );
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let index = version; index < SCHEMA_VERSION; index++) db.exec(MIGRATIONS[index]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
