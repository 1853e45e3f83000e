/**
 * What a run that changed something notes in the state DB at its end, besides the rows
 * written on the way: the root's device, whether keys are the names as on disk, the full
 * listing it took, and the moves that wait for a restore (also in the archive log).
 *
 * @module
 */
import type { DeferredMove, DeferredRecord } from "../model.ts";
import { updateArchiveLog } from "./archive_log.ts";
import type { StateStore } from "./store.ts";

/** What a run learned, to keep for the next one. */
export interface RunFacts {
  /** Device number of the root directory. */
  rootDev: number;
  /** Every move to a name as on disk went through (no failure, none waiting). */
  keysAsOnDisk: boolean;
  /** A full listing taken by this run, with split points for the next one. */
  listing?: { atMs: number; splits: readonly string[] };
  /** Moves that wait for a restore after this run. */
  deferred: readonly DeferredMove[];
  /** `archive_restore_needed.log` to keep up to date, with this target's identity. */
  archiveLog?: {
    path: string;
    target: { localDir: string; endpoint: string; bucket: string; prefix: string };
  };
  /** Now, ms since the epoch. */
  nowMs: number;
}

/**
 * Notes a run's facts for a target; returns its deferred moves as recorded (with the date
 * each was first deferred).
 *
 * @example
 * ```ts ignore
 * const deferred = recordRun(state, targetId, { rootDev: 2049, keysAsOnDisk: true, deferred: [], nowMs: Date.now() });
 * ```
 */
export function recordRun(state: StateStore, targetId: number, facts: RunFacts): DeferredRecord[] {
  state.setRootDev(targetId, facts.rootDev);
  if (facts.keysAsOnDisk) state.clearNfcKeys(targetId);
  if (facts.listing) state.noteListing(targetId, facts.listing);
  const deferred = state.saveDeferred(targetId, { moves: facts.deferred, nowMs: facts.nowMs });
  if (facts.archiveLog) {
    updateArchiveLog(facts.archiveLog.path, { target: facts.archiveLog.target, deferred });
  }
  return deferred;
}

/**
 * Deferred moves of a run that records nothing (a dry run), dated as the state DB has
 * them (new ones: now).
 *
 * @example
 * ```ts
 * datedDeferrals([{ from: "a", to: "b", size: 1, reason: "archived" }], []);
 * ```
 */
export function datedDeferrals(
  moves: readonly Omit<DeferredRecord, "firstDeferredMs">[],
  known: readonly DeferredRecord[],
): DeferredRecord[] {
  const first = new Map(known.map((record) => [record.from, record.firstDeferredMs]));
  return moves.map((move) => ({ ...move, firstDeferredMs: first.get(move.from) ?? Date.now() }));
}
