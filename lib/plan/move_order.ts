/**
 * Orders server-side moves so that no move overwrites a key before that key's own
 * object has moved away: chains run from their end, cycles go through a temporary key.
 *
 * @module
 */
import type { MoveAction, MoveStep } from "../model.ts";

/**
 * Orders moves so that no move overwrites a key before that key's own object has been
 * moved away: chains (a→b while b→c) run from the end, and cycles (a↔b swaps) go
 * through a temporary key from `tempKey`. Returns sequences that must each run in
 * order; different sequences are independent.
 *
 * @example
 * ```ts
 * const move = (from: string, to: string) => ({ from, to, size: 1, copyDone: false, reason: "renamed" });
 * orderMoves([move("a", "b"), move("b", "a")], () => "tmp/1");
 * // [[a→tmp/1, b→a, tmp/1→b]]
 * ```
 */
export function orderMoves(moves: readonly MoveAction[], tempKey: () => string): MoveStep[][] {
  const byFrom = new Map(moves.map((move) => [move.from, move]));
  const byTo = new Map(moves.map((move) => [move.to, move]));
  const done = new Set<MoveAction>();
  const sequences: MoveStep[][] = [];
  const follow = (start: MoveAction, sequence: MoveStep[], stopAt?: MoveAction) => {
    let current: MoveAction | undefined = start;
    while (current && current !== stopAt && !done.has(current)) {
      done.add(current);
      sequence.push({ ...current, viaTemp: false });
      current = byTo.get(current.from);
    }
  };
  // Chains: start with the move whose destination is not the source of another move.
  for (const move of moves) {
    if (done.has(move) || byFrom.has(move.to)) continue;
    const sequence: MoveStep[] = [];
    follow(move, sequence);
    sequences.push(sequence);
  }
  // What is left are cycles.
  for (const move of moves) {
    if (done.has(move)) continue;
    const temp = tempKey();
    done.add(move);
    const sequence: MoveStep[] = [{
      ...move,
      to: temp,
      file: undefined,
      copyDone: false,
      viaTemp: true,
    }];
    const previousMove = byTo.get(move.from);
    if (previousMove) follow(previousMove, sequence, move);
    sequence.push({
      ...move,
      from: temp,
      originalFrom: move.from,
      // A copy gets its own ETag (a multipart object's copy is single-part): the
      // temporary key's is not the listed one.
      etag: undefined,
      copyDone: false,
      viaTemp: true,
    });
    sequences.push(sequence);
  }
  return sequences;
}
