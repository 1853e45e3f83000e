/**
 * What every executor shares: the {@linkcode Executor} interface, the {@linkcode Outcome}
 * it reports, its failures, and the reporter it tells about each action. The live
 * executor makes the requests; the dry-run executor only reports.
 *
 * @module
 */
import type { DeferredMove, DeleteAction, MoveStep, Plan, UploadAction } from "../model.ts";

/** An action that did not succeed. */
export interface Failure {
  /** What was attempted. */
  action: "move" | "upload" | "delete";
  /** Key relative to the prefix (for a move, the destination). */
  key: string;
  /** A sentence saying what failed. */
  message: string;
  /** `unreadable`: a local file could not be read (exit 3); `error`: anything else (exit 1). */
  kind: "error" | "unreadable";
}

/** Totals of a plan, for progress displays. */
export interface PlannedTotals {
  /** Moves to make. */
  moves: number;
  /** Uploads to make. */
  uploads: number;
  /** Bytes to upload. */
  uploadBytes: number;
  /** Deletes to make (the sources of moves are not counted: they are part of their move). */
  deletes: number;
}

/**
 * The stages of a run as a user sees them: scanning (the local tree, the state and the
 * listing, merged), planning, executing.
 */
export type RunPhase = "scan" | "plan" | "execute";

/** Receives each stage and each completed action, for logs and progress. */
export interface ExecutionReporter {
  /** A stage began. */
  phase?(phase: RunPhase): void;
  /** The merge has seen this many more local files and listed objects. */
  counted?(more: { files: number; objects: number }): void;
  /** A stage ended: how long it took and what it found or did, in a phrase for the log. */
  phaseDone?(phase: RunPhase, ms: number, summary: string): void;
  /** The plan is about to be executed. */
  planned?(totals: PlannedTotals): void;
  /** A copy of a move completed (its source is deleted in a batch later). */
  moved?(step: MoveStep): void;
  /** Some bytes of an upload were sent (for rates); may be called many times per file. */
  progress?(bytes: number): void;
  /** An upload completed. */
  uploaded?(action: UploadAction): void;
  /** A delete completed. */
  deleted?(action: DeleteAction): void;
  /** An action failed. */
  failed?(failure: Failure): void;
  /** A move was deferred because S3 said its source is archived. */
  deferred?(move: DeferredMove): void;
  /** A move could not be made (its source changed or vanished in S3): uploaded instead. */
  fellBack?(step: MoveStep, why: string): void;
}

/** Failures kept in an outcome; more are only counted. */
export const FAILURES_KEPT = 1000;

/** What an execution did. */
export interface Outcome {
  /** Completed moves (steps into temporary keys are not counted). */
  moves: MoveStep[];
  /** Completed uploads. */
  uploads: number;
  /** Completed deletes. */
  deletes: number;
  /** Failed actions (the first {@linkcode FAILURES_KEPT}). */
  failures: Failure[];
  /** How many actions failed in all. */
  failureCount: number;
  /** Moves S3 refused to copy because the source is archived: deferred. */
  deferred: DeferredMove[];
  /** Uploads held back because their key is the source of a move that failed or waits. */
  waiting: number;
  /** Files deleted or replaced (by another file, a link, a FIFO) between scan and upload. */
  vanished: number;
  /** Moves uploaded instead, because their source changed or vanished in S3. */
  fellBack: number;
  /** Bytes sent by uploads. */
  bytesUploaded: number;
  /** Bytes moved by server-side copies instead of uploads. */
  bytesMovedServerSide: number;
  /** Milliseconds each part of the execution took (moves, uploads, deletes; they overlap). */
  phaseMs: Record<string, number>;
}

/** Applies a plan. */
export interface Executor {
  /** Carries out the plan and says what was done. */
  execute(plan: Plan): Promise<Outcome>;
}

/**
 * An outcome with nothing done yet.
 *
 * @example
 * ```ts
 * const outcome = emptyOutcome();
 * console.log(outcome.uploads); // 0
 * ```
 */
export function emptyOutcome(): Outcome {
  return {
    moves: [],
    uploads: 0,
    deletes: 0,
    failures: [],
    failureCount: 0,
    deferred: [],
    waiting: 0,
    vanished: 0,
    fellBack: 0,
    bytesUploaded: 0,
    bytesMovedServerSide: 0,
    phaseMs: {},
  };
}

/**
 * Counts a move step that is done and tells the reporter; the step of a cycle into its
 * temporary key (which carries no file) is not a move of its own.
 */
export function countMove(outcome: Outcome, step: MoveStep, reporter?: ExecutionReporter): void {
  if (!step.viaTemp || step.file) {
    outcome.moves.push(step);
    outcome.bytesMovedServerSide += step.size;
  }
  reporter?.moved?.(step);
}

/** Adds a failure to an outcome (keeping the first ones) and tells the reporter. */
export function recordFailure(
  outcome: Outcome,
  failure: Failure,
  reporter?: ExecutionReporter,
): void {
  outcome.failureCount++;
  if (outcome.failures.length < FAILURES_KEPT) outcome.failures.push(failure);
  reporter?.failed?.(failure);
}

/** The totals of a plan (its queue of uploads counted, not read). */
export function totalsOf(plan: Plan): PlannedTotals {
  return {
    moves: plan.moves.length,
    uploads: plan.uploads.count,
    uploadBytes: plan.uploads.bytes,
    // The sources of moves are deleted too, but count as part of their move.
    deletes: plan.deletes.length,
  };
}
