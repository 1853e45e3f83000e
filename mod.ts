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
export {
  type DeferredMove,
  type DeferredRecord,
  type DeleteAction,
  type FileRecord,
  type ListedEntry,
  type LocalFile,
  type MoveAction,
  type MoveStep,
  type Plan,
  type PlanSkip,
  type RemoteEntry,
  type ScanBatch,
  type SkippedEntry,
  STATE_DB_NAME,
  type StateChange,
  type StateRecorder,
  type TargetKey,
  TEMP_FOLDER,
  type UploadAction,
  type UploadQueue,
  type UploadReason,
} from "./lib/model.ts";
export { scan, walk } from "./lib/scan/walk.ts";
export type { ScanResult, WalkOptions, WalkTotals } from "./lib/scan/walk.ts";
export type { FileStat, ScanDirEntry, ScanFs } from "./lib/scan/scan_fs.ts";
export { startScan } from "./lib/scan/stream.ts";
export type { ScanStream, ScanStreamOptions } from "./lib/scan/stream.ts";
export { compareKeys } from "./lib/scan/key_order.ts";
export { listInOrder } from "./lib/scan/listing.ts";
export type { OrderedListingOptions } from "./lib/scan/listing.ts";
export { ALWAYS_EXCLUDED, excluder, filter, globToRegExp } from "./lib/scan/filter.ts";
export type { PathFilter } from "./lib/scan/filter.ts";
export { NullRecorder, SCHEMA_VERSION, StateStore } from "./lib/state/store.ts";
export { plan } from "./lib/plan/plan.ts";
export type { PlanInput, PlanOptions, PlanResult } from "./lib/plan/plan.ts";
export { classify } from "./lib/plan/merge.ts";
export type {
  Candidate,
  Classification,
  Displaced,
  MergeInput,
  MergeOptions,
} from "./lib/plan/merge.ts";
export { MemoryUploadQueue } from "./lib/plan/upload_queue.ts";
export { decide } from "./lib/plan/decide.ts";
export type { DecideOptions } from "./lib/plan/decide.ts";
export { matchesRemote } from "./lib/plan/rules.ts";
export { orderMoves } from "./lib/plan/move_order.ts";
export { summariseRenames } from "./lib/report/renames.ts";
export type { FolderRename, RenameSummary } from "./lib/report/renames.ts";
export type {
  CopyOptions,
  CopyResult,
  DeleteFailure,
  ListOptions,
  ObjectHead,
  ObjectStore,
  RemoteObject,
  RestoreOptions,
  RestoreOutcome,
  UploadOptions,
  UploadResult,
} from "./lib/s3/store.ts";
export { copySource, S3Store } from "./lib/s3/aws_store.ts";
export { createListClient, createS3Client } from "./lib/s3/client.ts";
export { MemoryStore } from "./lib/s3/memory_store.ts";
export type { StoredObject } from "./lib/s3/memory_store.ts";
export type { ConnectionOptions, S3StoreOptions } from "./lib/s3/client.ts";
export { LiveExecutor } from "./lib/execute/live.ts";
export { DryRunExecutor } from "./lib/execute/dry_run.ts";
export type {
  ExecutionReporter,
  Executor,
  Failure,
  Outcome,
  PlannedTotals,
  RunPhase,
} from "./lib/execute/executor.ts";
export { runTarget } from "./lib/run_target.ts";
export type {
  ListingInfo,
  TargetReport,
  TargetRunDeps,
  TargetRunOptions,
} from "./lib/run_target.ts";
export { deleteGuard } from "./lib/plan/delete_guard.ts";
export type { DeleteGuardOptions } from "./lib/plan/delete_guard.ts";
export { parseS3Url } from "./lib/s3/location.ts";
export type { S3Location } from "./lib/s3/location.ts";
export { DeleteRefusedError, ExitCode, OperationError, UsageError } from "./lib/errors.ts";
export { FileRegistry } from "./lib/state/registry.ts";
export type { RegisteredTarget, TargetRegistry } from "./lib/state/registry.ts";
export { VERSION } from "./lib/version.ts";
