/**
 * s3-smart-sync as a library: mirror a local directory in S3, moving renamed files
 * and folders server-side (copy + delete in S3) instead of uploading them again.
 *
 * The pipeline is scan → plan → execute → record: {@linkcode scan} walks the tree,
 * {@linkcode plan} merges state, scan and remote listing into actions, an
 * {@linkcode Executor} applies them and {@linkcode StateStore} records them.
 *
 * @example
 * ```ts
 * import { createS3Client, runTarget, S3Store } from "./mod.ts";
 *
 * const store = new S3Store(await createS3Client({}), "my-backup");
 * const report = await runTarget(
 *   { localDir: "/volume1/photos", location: { bucket: "my-backup", prefix: "photos/" }, endpoint: "", mode: "sync" },
 *   { store },
 * );
 * console.log(report.outcome.moves.length, "moved server-side");
 * ```
 *
 * @module
 */
export { scan } from "./lib/scan.ts";
export type { LocalFile, ScanResult, SkippedEntry } from "./lib/scan.ts";
export { ALWAYS_EXCLUDED, excluder, filter, globToRegExp, STATE_DB_NAME } from "./lib/filter.ts";
export type { PathFilter } from "./lib/filter.ts";
export { NullRecorder, SCHEMA_VERSION, StateStore } from "./lib/state.ts";
export type { FileRecord, StateChange, StateRecorder, TargetKey } from "./lib/state.ts";
export { matchesRemote, plan, TEMP_FOLDER } from "./lib/plan.ts";
export { orderMoves } from "./lib/move_order.ts";
export type { MoveStep } from "./lib/move_order.ts";
export { summariseRenames } from "./lib/renames.ts";
export type { FolderRename, RenameSummary } from "./lib/renames.ts";
export type {
  DeferredMove,
  DeleteAction,
  MoveAction,
  Plan,
  PlanInput,
  PlanOptions,
  RemoteEntry,
  UploadAction,
} from "./lib/plan.ts";
export type { ObjectStore, RemoteObject } from "./lib/remote.ts";
export { copySource, createS3Client, S3Store } from "./lib/s3_store.ts";
export type { ConnectionOptions, S3StoreOptions } from "./lib/s3_store.ts";
export { LiveExecutor } from "./lib/execute.ts";
export { DryRunExecutor } from "./lib/dry_run_executor.ts";
export type { ExecutionReporter, Executor, Failure, Outcome } from "./lib/execute.ts";
export { runTarget } from "./lib/run_target.ts";
export type { TargetReport, TargetRunOptions } from "./lib/run_target.ts";
export { deleteGuard } from "./lib/delete_guard.ts";
export { parseS3Url } from "./lib/target.ts";
export type { S3Location } from "./lib/target.ts";
export { ExitCode, OperationError, UsageError } from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";
