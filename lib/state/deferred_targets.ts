/**
 * Finds the deferred moves that `restore` and `restore-status` work on: those of one
 * target, or of every target in the registry. The state DBs are the truth;
 * `archive_restore_needed.log` is a report, read only to find targets synced before the
 * registry existed.
 *
 * @module
 */
import { readArchiveLog } from "./archive_log.ts";
import { exists } from "../fs.ts";
import type { RegisteredTarget, TargetRegistry } from "./registry.ts";
import { statePathOf, StateStore } from "./store.ts";
import { type DeferredRecord } from "../model.ts";

/** The deferred moves of one target. */
export interface DeferredGroup extends RegisteredTarget {
  /** Its deferred moves (keys relative to the prefix). */
  moves: DeferredRecord[];
}

/**
 * The deferred moves of one target, read from its state DB (none when it has no DB).
 *
 * @throws {Error} when the state DB exists but cannot be read.
 *
 * @example
 * ```ts
 * const group = deferredOfTarget({ localDir: "/volume1/photos",
 *   stateDb: "/volume1/photos/.s3-smart-sync.db", endpoint: "", bucket: "b", prefix: "" });
 * ```
 */
export function deferredOfTarget(target: RegisteredTarget): DeferredGroup {
  const group: DeferredGroup = { ...target, moves: [] };
  if (!exists(target.stateDb)) return group;
  const state = StateStore.openFile(target.stateDb, { readOnly: true });
  try {
    const { endpoint, bucket, prefix } = target;
    group.moves = state.deferredMoves(state.target({ endpoint, bucket, prefix }));
  } finally {
    state.close();
  }
  return group;
}

/** What {@linkcode deferredEverywhere} found. */
export interface DeferredSearch {
  /** Every known target with its deferred moves (possibly none). */
  groups: DeferredGroup[];
  /** Targets whose state could not be read, each as a sentence. */
  problems: string[];
}

/**
 * The deferred moves of every registered target, and of targets named in the archive
 * log that the registry does not list yet (synced by a version before the registry).
 * A target whose directory is gone (an unmounted volume) or whose DB cannot be read is
 * reported in `problems` and skipped.
 */
export function deferredEverywhere(
  options: { registry: TargetRegistry; archiveLog?: string },
): DeferredSearch {
  // One entry per state DB and target: successive snapshots synced with one --state-dir
  // are registered under their own paths, and share that state (the latest path kept).
  const registered = options.registry.targets();
  const byState = new Map<string, RegisteredTarget>();
  for (const target of registered) byState.set(identity(target), target);
  const targets = [...byState.values()];
  const registeredPaths = new Set(registered.map(pathIdentity));
  for (const entry of options.archiveLog ? readArchiveLog(options.archiveLog) : []) {
    const target = {
      localDir: entry.localDir,
      stateDb: statePathOf(entry.localDir),
      endpoint: entry.endpoint,
      bucket: entry.bucket,
      prefix: entry.prefix,
    };
    // The registry knows where the state of its targets is (maybe in a --state-dir).
    if (registeredPaths.has(pathIdentity(target)) || byState.has(identity(target))) continue;
    byState.set(identity(target), target);
    targets.push(target);
  }
  const groups: DeferredGroup[] = [];
  const problems: string[] = [];
  for (const target of targets) {
    const where = `${target.localDir} → s3://${target.bucket}/${target.prefix}`;
    if (!exists(target.localDir) && !exists(target.stateDb)) {
      problems.push(
        `${where}: "${target.localDir}" is not there (is the volume mounted?); its deferred moves are not included`,
      );
      continue;
    }
    try {
      groups.push(deferredOfTarget(target));
    } catch (error) {
      problems.push(
        `${where}: cannot read its state DB "${target.stateDb}": ${(error as Error).message}`,
      );
    }
  }
  return { groups, problems };
}

function identity(target: RegisteredTarget): string {
  return JSON.stringify([target.stateDb, target.endpoint, target.bucket, target.prefix]);
}

function pathIdentity(target: RegisteredTarget): string {
  return JSON.stringify([target.localDir, target.endpoint, target.bucket, target.prefix]);
}
