/**
 * The in-memory {@linkcode UploadQueue}: enough for the uploads of an ordinary run and for
 * tests; the state stage spills a large one to disk (`state/upload_spool.ts`).
 *
 * @module
 */
import type { UploadAction, UploadQueue } from "../model.ts";

/**
 * Uploads held in an array.
 *
 * @example
 * ```ts
 * const queue = new MemoryUploadQueue();
 * queue.push({ key: "a.jpg", reason: "new", file: { path: "a.jpg", dev: 1, ino: 2n, size: 3, mtimeMs: 0 } });
 * console.log(queue.count, queue.bytes); // 1 3
 * ```
 */
export class MemoryUploadQueue implements UploadQueue {
  #actions: UploadAction[] = [];
  #bytes = 0;

  push(action: UploadAction): void {
    this.#actions.push(action);
    this.#bytes += action.file.size;
  }

  get count(): number {
    return this.#actions.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The uploads themselves (tests read them). */
  get actions(): readonly UploadAction[] {
    return this.#actions;
  }

  *batches(): Iterable<UploadAction[]> {
    if (this.#actions.length > 0) yield [...this.#actions];
  }

  close(): void {
    this.#actions = [];
    this.#bytes = 0;
  }
}
