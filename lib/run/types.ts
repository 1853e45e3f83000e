/**
 * What a run of one target is given (options, side effects) and what it reports: the
 * contract between the commands and the pipeline (`run_target.ts`).
 *
 * @module
 */
import type { ExecutionReporter, Outcome } from "../execute/executor.ts";
import type { DeferredRecord, MoveAction, Plan, SkippedEntry } from "../model.ts";
import type { S3Location } from "../s3/location.ts";
import type { ObjectStore } from "../s3/store.ts";
import type { TargetRegistry } from "../state/registry.ts";

/** What to run against one target. */
export interface TargetRunOptions {
  /** The local directory. */
  localDir: string;
  /** Bucket and prefix. */
  location: S3Location;
  /** Endpoint URL ("" for AWS); part of the target's identity in the state DB. */
  endpoint: string;
  /** `sync` uploads (and deletes); `moves` only moves; `status` changes nothing. */
  mode: "sync" | "moves" | "status";
  /** Report the plan without changing anything. */
  dryRun?: boolean;
  /** Delete keys whose local file is gone. */
  deleteRemote?: boolean;
  /**
   * `moves` before another tool's `sync --delete` (batch's aws step): plan the deletes a
   * `sync --delete` would make and refuse the run, as `sync` would, when the delete guard
   * refuses them; make none of them. The report gives their count in `plannedDeletes`.
   */
  checkDeletes?: boolean;
  /** Exclude patterns (`aws s3 sync` semantics). */
  excludes?: readonly string[];
  /** Uploads in flight at most (default 10). */
  concurrency?: number;
  /** Server-side copies and deletes in flight at most (default 64). */
  moveConcurrency?: number;
  /** ListObjectsV2 ranges listed at once (default 16). */
  listConcurrency?: number;
  /** Storage class of uploads. */
  storageClass?: string;
  /** Allow at most this many deletes. */
  maxDelete?: number;
  /** Skip the mass-deletion guard. */
  forceDelete?: boolean;
  /** `archive_restore_needed.log` to keep up to date with this target's deferred moves. */
  archiveLog?: string;
  /** Before each move, compare the local file's MD5 with the object's ETag (where it is one). */
  verifyMoves?: boolean;
  /**
   * Skip the listing while the last full listing is younger than `maxStateAgeMs`: plan
   * from the scan and the state alone (each move still conditional on its source's ETag).
   */
  trustState?: boolean;
  /** How old the last full listing may be for `trustState` (default 7 days). */
  maxStateAgeMs?: number;
  /**
   * Where the state DB and the lock are kept (default: `localDir`): outside the synced
   * folder for a read-only snapshot; successive snapshots share it.
   */
  stateDir?: string;
}

/** Side effects the pipeline needs. */
export interface TargetRunDeps {
  /** The bucket. */
  store: ObjectStore;
  /** Told about each action as it completes (or would, in a dry run). */
  reporter?: ExecutionReporter;
  /** Where runs that change something list their target, for `restore` to find. */
  registry?: TargetRegistry;
  /**
   * Aborted to interrupt the run (SIGINT, SIGTERM): the scan stops, nothing new starts,
   * uploads under way stop, copies under way finish and are recorded; the report says
   * `interrupted`.
   */
  signal?: AbortSignal;
}

/** How the run learned what is in S3. */
export interface ListingInfo {
  /** `full`: this run listed the prefix; `trusted`: it planned from the state DB alone. */
  kind: "full" | "trusted";
  /** When the last full listing before this run was taken (ms since the epoch), if ever. */
  previousFullListingMs?: number;
}

/** What a run of one target found and did. */
export interface TargetReport {
  /** The plan that was executed. */
  plan: Plan;
  /** What was done (or would be, in a dry run). */
  outcome: Outcome;
  /** Entries the scan skipped (symlinks, special files, unreadable folders). */
  scanSkipped: SkippedEntry[];
  /** Local files found, after excludes. */
  localFiles: number;
  /** Objects listed under the prefix (or recorded, trusting the state), after excludes. */
  remoteObjects: number;
  /** Local files excluded by patterns. */
  excluded: number;
  /** Rows written to the state DB. */
  stateWrites: number;
  /** Whether anything was changed. */
  dryRun: boolean;
  /**
   * Milliseconds per phase: open, merge (scan, rows and listing together), plan, execute,
   * and within execute its parts (`execute.moves`, `execute.uploads`, `execute.deletes`;
   * moves and uploads overlap).
   */
  timings: Record<string, number>;
  /**
   * Moves of this target that wait for archived objects to be restored, after this run:
   * neither their new path may be uploaded nor their old key deleted by anyone.
   */
  deferred: DeferredRecord[];
  /** The lock of a run that died without releasing it was taken over (its pid, start). */
  lockTakenOverFrom?: string;
  /** Deletes held back because some local files could not be read or named. */
  heldDeletes: number;
  /** Deletes the plan wants (made only by `sync --delete`; judged with `checkDeletes`). */
  plannedDeletes: number;
  /** The target could not be listed in the registry (why), so `restore` may miss it. */
  registryProblem?: string;
  /** Moves `--verify-moves` found to be no renames (uploaded instead). */
  mismatchedMoves: MoveAction[];
  /** Whether the run listed S3 or trusted the state. */
  listing: ListingInfo;
  /** The run was interrupted (`TargetRunDeps.signal`): what it reports was done so far. */
  interrupted: boolean;
}
