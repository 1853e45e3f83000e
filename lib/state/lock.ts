/**
 * One run at a time per local directory and target: an exclusive OS file lock
 * (`flock`) on a small file beside the state DB. The kernel releases it when the
 * process ends, however it ends, so a lock left by a killed run is simply taken over.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { OperationError } from "../errors.ts";
import { STATE_DB_NAME, type TargetKey } from "../model.ts";
import { withSlash } from "../fs.ts";

/** A held lock; release it with {@linkcode RunLock.release}. */
export interface RunLock {
  /** Path of the lock file. */
  readonly path: string;
  /** A previous holder died without releasing it (pid and start), if so. */
  readonly tookOverFrom?: string;
  /** Releases the lock and removes its file. */
  release(): void;
}

/** Path of the lock file of a target whose state DB is in `stateDir`. */
export function lockPath(stateDir: string, target: TargetKey): string {
  const id = createHash("sha256").update(`${target.endpoint}\n${target.bucket}\n${target.prefix}`)
    .digest("hex").slice(0, 12);
  return `${withSlash(stateDir)}${STATE_DB_NAME}.lock-${id}`;
}

/**
 * Takes the lock of a target (beside its state DB in `stateDir`, the synced directory
 * unless `--state-dir` says otherwise), or fails at once when another run holds it.
 *
 * @throws {OperationError} naming the other run (pid, start time) when it is held.
 *
 * @example
 * ```ts
 * const lock = acquireLock("/volume1/photos", { endpoint: "", bucket: "b", prefix: "" });
 * try {
 *   // sync the target
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export function acquireLock(
  stateDir: string,
  target: TargetKey,
  options: { localDir?: string } = {},
): RunLock {
  const localDir = options.localDir ?? stateDir;
  const path = lockPath(stateDir, target);
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  let holder = "";
  try {
    holder = new TextDecoder().decode(Deno.readFileSync(path)).trim();
  } catch {
    holder = "";
  }
  if (!file.tryLockSync(true)) {
    file.close();
    throw new OperationError(
      `Another s3-smart-sync run (${
        holder || "unknown process"
      }) is already syncing "${localDir}" to s3://${target.bucket}/${target.prefix}. Wait for it to finish; nothing was changed.`,
    );
  }
  // Locked: whoever wrote the file before us is gone (a clean run removes it).
  const tookOverFrom = holder || undefined;
  file.truncateSync(0);
  file.writeSync(
    new TextEncoder().encode(`pid ${Deno.pid}, started ${new Date().toISOString()}\n`),
  );
  return {
    path,
    tookOverFrom,
    release() {
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
      file.unlockSync();
      file.close();
    },
  };
}
