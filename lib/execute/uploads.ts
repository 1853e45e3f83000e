/**
 * Uploads: each file checked to be still the regular file the scan saw, sent (in parts
 * when large, noted in the state so that a dead run's open upload is aborted later), and
 * recorded with what is known of the new object — only if the file did not change while
 * it was read.
 *
 * @module
 */
import { withSlash } from "../fs.ts";
import type { FileRecord, StateRecorder, UploadAction } from "../model.ts";
import { recordOf } from "../model.ts";
import { runPool } from "../pool.ts";
import { contentTypeOf } from "../s3/content_type.ts";
import { s3ErrorText } from "../s3/errors.ts";
import type { ObjectStore } from "../s3/store.ts";
import { StoreUnreachableError } from "../s3/unreachable_guard.ts";
import type { ScanFs } from "../scan/scan_fs.ts";
import { type ExecutionReporter, type Outcome, recordFailure } from "./executor.ts";

/** What the uploads need. */
export interface UploadsContext {
  /** The bucket. */
  store: ObjectStore;
  /** Key prefix ("" or ending in "/"). */
  prefix: string;
  /** The local directory the files are read from. */
  root: string;
  /** Where uploads are recorded. */
  recorder: StateRecorder;
  /** Told about each upload and failure. */
  reporter?: ExecutionReporter;
  /** Filled in as uploads complete or fail. */
  outcome: Outcome;
  /** Uploads in flight at most. */
  concurrency: number;
  /** Storage class of the uploads (undefined: STANDARD). */
  storageClass?: string;
  /** Keys that must not be overwritten in this run (their move failed or waits). */
  held: ReadonlySet<string>;
  /** How the file is checked before and after it is read. */
  fs: Pick<ScanFs, "lstat">;
  /** Set when the run is interrupted: no upload starts, those under way are stopped. */
  signal?: AbortSignal;
  /** Collects the keys uploaded and recorded. */
  uploaded?: Set<string>;
}

const RECORD_BATCH = 200;

/**
 * Uploads every action of `batches`, recording each in batches of rows.
 *
 * @throws {StoreUnreachableError} when S3 stopped answering (what was uploaded is recorded).
 *
 * @example
 * ```ts ignore
 * await runUploads(plan.uploads.batches(), context);
 * ```
 */
export async function runUploads(
  batches: Iterable<UploadAction[]>,
  context: UploadsContext,
): Promise<void> {
  let records: FileRecord[] = [];
  const flush = (record?: FileRecord) => {
    if (record) records.push(record);
    if (records.length >= RECORD_BATCH || (!record && records.length > 0)) {
      context.recorder.apply({ upsert: records });
      records = [];
    }
  };
  try {
    for (const batch of batches) {
      if (context.signal?.aborted) break;
      await runPool(batch, {
        concurrency: context.concurrency,
        worker: (action) => uploadOne(action, context, flush),
        signal: context.signal,
      });
    }
  } finally {
    // Even when the run is stopped, what was uploaded is recorded.
    flush();
  }
}

async function uploadOne(
  action: UploadAction,
  context: UploadsContext,
  flush: (record: FileRecord) => void,
): Promise<void> {
  const { store, prefix, outcome, recorder } = context;
  if (context.held.has(action.key)) {
    outcome.waiting++;
    return;
  }
  const path = withSlash(context.root) + action.file.path;
  // Still the regular file the scan saw? Never follow a symlink or open a FIFO (which
  // would block) that replaced it since.
  if (!stillTheFile(path, action, context.fs)) {
    outcome.vanished++;
    return;
  }
  const key = prefix + action.key;
  const multipart = store.uploadsInParts?.(action.file.size) ?? false;
  if (multipart) recorder.multipart?.(key, "started");
  let sent: { etag?: string; sse?: string };
  let reported = 0;
  try {
    sent = await store.upload(key, { path, size: action.file.size }, {
      storageClass: action.keep?.storageClass ?? context.storageClass,
      sse: action.keep?.sse,
      contentType: contentTypeOf(action.key),
      signal: context.signal,
      onProgress: (bytes) => {
        reported += bytes;
        context.reporter?.progress?.(bytes);
      },
    });
    if (multipart) recorder.multipart?.(key, "done");
  } catch (error) {
    if (error instanceof StoreUnreachableError) throw error;
    // Interrupted: not uploaded; the next run uploads it (a part-way multipart upload is
    // aborted by then, as it is noted).
    if (context.signal?.aborted) return;
    if (error instanceof Deno.errors.NotFound) {
      // Deleted since the scan: there is nothing to back up any more, as if it had gone
      // before the scan. Nothing is recorded; the next run sees it gone.
      outcome.vanished++;
      return;
    }
    recordFailure(outcome, {
      action: "upload",
      key: action.key,
      message: `Cannot upload "${action.file.path}": ${s3ErrorText(error)}`,
      kind: error instanceof Deno.errors.PermissionDenied ? "unreadable" : "error",
    }, context.reporter);
    return;
  }
  outcome.uploads++;
  outcome.bytesUploaded += action.file.size;
  if (action.file.size > reported) context.reporter?.progress?.(action.file.size - reported);
  context.reporter?.uploaded?.(action);
  // Never record content other than what was read: a file that changed while it was
  // uploaded is uploaded again by the next run.
  if (!stillTheFile(path, action, context.fs, { content: true })) return;
  const record = recordOf(action.file, action.key, true);
  if (sent.etag) record.etag = sent.etag;
  record.storageClass = action.keep?.storageClass ?? context.storageClass ?? "STANDARD";
  if (sent.sse !== undefined) record.sse = sent.sse;
  flush(record);
  context.uploaded?.add(action.key);
}

function stillTheFile(
  path: string,
  action: UploadAction,
  fs: Pick<ScanFs, "lstat">,
  options: { content?: boolean } = {},
): boolean {
  try {
    const now = fs.lstat(path);
    if (!now.isFile || now.ino !== action.file.ino) return false;
    return !options.content ||
      (now.size === action.file.size && now.mtimeMs === action.file.mtimeMs);
  } catch {
    return false;
  }
}
