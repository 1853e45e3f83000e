/**
 * `--verify-moves`: before any move is made, read each renamed file and compare its MD5
 * with the source object's ETag (where the ETag is one: single-part uploads). The
 * pipeline turns the moves whose content differs into uploads (`plan/verify.ts`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { withSlash } from "../fs.ts";
import type { MoveAction } from "../model.ts";
import { runPool } from "../pool.ts";

const MD5_ETAG = /^"[0-9a-f]{32}"$/;

/**
 * The moves whose local file has other content than their source object (an inode reused
 * with the same size and mtime). A file that cannot be read, or an object whose ETag is no
 * MD5, is not a mismatch: the move goes ahead as planned.
 *
 * @example
 * ```ts
 * const mismatched = await contentMismatches([], { root: "/volume1/photos" });
 * console.log(mismatched.length); // 0
 * ```
 */
export async function contentMismatches(
  moves: readonly MoveAction[],
  options: { root: string; concurrency?: number },
): Promise<MoveAction[]> {
  const mismatched: MoveAction[] = [];
  await runPool(moves.filter((move) => move.file && move.etag && MD5_ETAG.test(move.etag)), {
    concurrency: options.concurrency ?? 4,
    worker: async (move) => {
      const md5 = await md5Of(withSlash(options.root) + move.file!.path);
      if (md5 !== undefined && `"${md5}"` !== move.etag) mismatched.push(move);
    },
  });
  return mismatched;
}

async function md5Of(path: string): Promise<string | undefined> {
  try {
    const hash = createHash("md5");
    for await (const chunk of createReadStream(path)) hash.update(chunk);
    return hash.digest("hex");
  } catch {
    return undefined; // Unreadable now: the upload would fail too; move as planned.
  }
}
