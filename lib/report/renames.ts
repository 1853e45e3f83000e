/**
 * Groups moves for reporting: a folder rename is shown as one line, not N.
 *
 * @module
 */
import { type MoveAction } from "../model.ts";

/** Moves of many files between two folders, shown to the user as one folder rename. */
export interface FolderRename {
  /** Old folder, relative to the prefix, ending in "/" ("" for the root). */
  from: string;
  /** New folder. */
  to: string;
  /** How many files moved with it. */
  files: number;
  /** Their total size. */
  bytes: number;
}

/** Moves grouped for reporting: folder renames, and single-file renames. */
export interface RenameSummary {
  /** Groups of moves that share the same folder rename. */
  folders: FolderRename[];
  /** Moves that change a file's own name. */
  files: Array<{ from: string; to: string; size: number }>;
}

/**
 * Groups moves for reporting: a move whose file name stays the same while its folder
 * changes belongs to a folder rename (the part of the path that differs).
 *
 * @example
 * ```ts
 * summariseRenames([{ from: "2023/a.jpg", to: "old/2023/a.jpg", size: 10 }]);
 * // folders: [{ from: "2023/", to: "old/2023/", files: 1, bytes: 10 }], files: []
 * ```
 */
export function summariseRenames(
  moves: readonly Pick<MoveAction, "from" | "to" | "size">[],
): RenameSummary {
  const folders = new Map<string, FolderRename>();
  const files: RenameSummary["files"] = [];
  for (const move of moves) {
    const from = move.from.split("/");
    const to = move.to.split("/");
    if (from.at(-1) !== to.at(-1)) {
      files.push({ from: move.from, to: move.to, size: move.size });
      continue;
    }
    const fromDirs = from.slice(0, -1);
    const toDirs = to.slice(0, -1);
    let leading = 0;
    while (
      leading < Math.min(fromDirs.length, toDirs.length) && fromDirs[leading] === toDirs[leading]
    ) leading++;
    // Strip the shared tail ("day1/" in trip/day1 → italy/day1), keeping at least one
    // folder past the shared head on each side, so that "2023/" → "old/2023/" stays whole.
    while (
      fromDirs.length > leading + 1 && toDirs.length > leading + 1 &&
      fromDirs.at(-1) === toDirs.at(-1)
    ) {
      fromDirs.pop();
      toDirs.pop();
    }
    const fromFolder = fromDirs.length ? fromDirs.join("/") + "/" : "";
    const toFolder = toDirs.length ? toDirs.join("/") + "/" : "";
    const id = `${fromFolder}\u0000${toFolder}`;
    const group = folders.get(id) ?? { from: fromFolder, to: toFolder, files: 0, bytes: 0 };
    group.files++;
    group.bytes += move.size;
    folders.set(id, group);
  }
  return { folders: [...folders.values()], files };
}
