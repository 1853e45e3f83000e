/**
 * What `--verify-moves` changes in a plan: a move whose file turned out to have other
 * content than its source object (an inode reused with the same size and mtime) is no
 * rename. Its file is uploaded, the source's row forgotten, and with deleteRemote the old
 * key deleted like any key whose file is gone — where the delete guard sees it.
 *
 * @module
 */
import type { MoveAction, Plan } from "../model.ts";

/**
 * Turns the `mismatched` moves of `plan` into uploads (and deletes), in place.
 *
 * @example
 * ```ts
 * import { MemoryUploadQueue } from "./upload_queue.ts";
 * const file = { path: "b.jpg", dev: 1, ino: 7n, size: 5, mtimeMs: 1e12 };
 * const move = { from: "a.jpg", to: "b.jpg", file, size: 5, copyDone: false, reason: "renamed" };
 * const plan = {
 *   moves: [move], uploads: new MemoryUploadQueue(), deletes: [], record: { upsert: [], forget: [] },
 *   unchanged: 0, adopted: 0, inodeUpdates: 0, skipped: [], deferred: [], waiting: [],
 * };
 * dropMismatchedMoves(plan, [move], { mode: "sync", deleteRemote: true });
 * console.log(plan.moves.length, plan.uploads.count, plan.deletes.length); // 0 1 1
 * ```
 */
export function dropMismatchedMoves(
  plan: Plan,
  mismatched: readonly MoveAction[],
  options: { mode: "sync" | "moves"; deleteRemote: boolean },
): void {
  if (mismatched.length === 0) return;
  const dropped = new Set(mismatched);
  plan.moves = plan.moves.filter((move) => !dropped.has(move));
  for (const move of mismatched) {
    // Not this file's content: forget the row so that it is not taken for a rename again.
    plan.record.forget.push(move.from);
    if (options.mode === "moves" || !move.file) continue;
    plan.uploads.push({ key: move.to, file: move.file, reason: "changed" });
    if (options.deleteRemote) {
      plan.deletes.push({
        key: move.from,
        size: move.size,
        reason: "no local file (--verify-moves: the inode was reused)",
      });
    }
  }
}
