/**
 * An {@linkcode UploadQueue} that keeps up to a few thousand uploads in memory and spills
 * the rest to a private temporary SQLite file (deleted when closed), so that the first run
 * of a million files never holds a million upload actions.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { UploadAction, UploadQueue, UploadReason } from "../model.ts";
import { storedInode } from "./codec.ts";

/** Uploads kept in memory before the spool goes to disk. */
const IN_MEMORY = 20_000;
/** Rows read back at a time. */
const BATCH = 2_000;

type SpoolRow = [bigint, string, string, string, bigint, bigint, bigint, number, number | null];

/**
 * Holds uploads in memory, then on disk.
 *
 * @example
 * ```ts
 * const spool = new UploadSpool({ inMemory: 1 });
 * const file = { path: "a.jpg", dev: 1, ino: 2n, size: 3, mtimeMs: 0 };
 * spool.push({ key: "a.jpg", reason: "new", file });
 * spool.push({ key: "b.jpg", reason: "new", file: { ...file, path: "b.jpg" } });
 * for (const batch of spool.batches()) console.log(batch.length);
 * spool.close();
 * ```
 */
export class UploadSpool implements UploadQueue {
  #memory: UploadAction[] = [];
  #db?: DatabaseSync;
  #insert?: StatementSync;
  #spilled = 0;
  #count = 0;
  #bytes = 0;
  readonly #inMemory: number;

  constructor(options: { inMemory?: number } = {}) {
    this.#inMemory = options.inMemory ?? IN_MEMORY;
  }

  push(action: UploadAction): void {
    this.#count++;
    this.#bytes += action.file.size;
    if (this.#memory.length < this.#inMemory && this.#spilled === 0) {
      this.#memory.push(action);
      return;
    }
    if (!this.#db) {
      // An empty file name: SQLite's private temporary file, removed when it is closed.
      this.#db = new DatabaseSync("");
      this.#db.exec(
        `PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE spool (seq INTEGER PRIMARY KEY, key TEXT, reason TEXT, path TEXT,
           dev INTEGER, ino INTEGER, size INTEGER, mtime_ms REAL, btime_ms REAL);
         BEGIN;`,
      );
      this.#insert = this.#db.prepare(
        "INSERT INTO spool (key, reason, path, dev, ino, size, mtime_ms, btime_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
    }
    const { key, reason, file } = action;
    this.#insert!.run(
      key,
      reason,
      file.path,
      file.dev,
      storedInode(file.ino),
      file.size,
      file.mtimeMs,
      file.btimeMs ?? null,
    );
    this.#spilled++;
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  *batches(): Iterable<UploadAction[]> {
    if (this.#memory.length > 0) yield [...this.#memory];
    if (!this.#db) return;
    if (this.#db.isTransaction) this.#db.exec("COMMIT");
    const page = this.#db.prepare(
      "SELECT seq, key, reason, path, dev, ino, size, mtime_ms, btime_ms FROM spool WHERE seq > ? ORDER BY seq LIMIT ?",
    ) as StatementSync & { setReturnArrays(enabled: boolean): void };
    page.setReturnArrays(true);
    page.setReadBigInts(true);
    let after = 0n;
    for (;;) {
      const rows = page.all(after, BATCH) as unknown as SpoolRow[];
      if (rows.length === 0) return;
      yield rows.map(([, key, reason, path, dev, ino, size, mtimeMs, btimeMs]) => ({
        key,
        reason: reason as UploadReason,
        file: {
          path,
          dev: Number(dev),
          ino: BigInt.asUintN(64, ino),
          size: Number(size),
          mtimeMs: Number(mtimeMs),
          ...(btimeMs === null ? {} : { btimeMs: Number(btimeMs) }),
        },
      }));
      after = rows[rows.length - 1]![0];
    }
  }

  close(): void {
    this.#memory = [];
    this.#db?.close();
    this.#db = undefined;
    this.#count = 0;
    this.#bytes = 0;
    this.#spilled = 0;
  }
}
