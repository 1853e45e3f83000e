/**
 * The streaming half of the planner: merges the scan, the state rows and the listing —
 * three streams sorted in S3 key order — key by key, decides at once what needs nothing
 * else (unchanged files, adoptions, new files whose inode no row knows, edits, orphans),
 * and keeps only what a rename could explain: rows whose inode left their path, and
 * files whose inode a row knows elsewhere. Memory grows with those, not with the tree.
 *
 * @module
 */
import {
  type DeleteAction,
  type FileRecord,
  type ListedEntry,
  type LocalFile,
  type PlanSkip,
  type RemoteEntry,
  type ScanBatch,
  type SkippedEntry,
  type StateRecorder,
  TEMP_FOLDER,
  type UploadQueue,
  type UploadReason,
} from "../model.ts";
import { compareKeys } from "../scan/key_order.ts";
import { BatchCursor } from "./cursor.ts";
import { decideFile, type FileDecision, listedFromRecord, localRowOf, sameInode } from "./rules.ts";

/** A row whose inode no longer lives at its path: a possible rename source. */
export interface Displaced {
  /** The row. */
  record: FileRecord;
  /** Its object as listed (or, trusting the state, as recorded). */
  listed?: RemoteEntry;
  /** Another file is at the row's path now (a swap, or a file replaced). */
  replaced: boolean;
}

/** A file that may be where a displaced row's file went. */
export interface Candidate {
  /** The file. */
  file: LocalFile;
  /** The row at its path, recording another inode. */
  record?: FileRecord;
  /** The object at its key. */
  listed?: RemoteEntry;
}

/** The three sorted streams {@linkcode classify} merges. */
export interface MergeInput {
  /** The scan, in key order. */
  files: AsyncIterable<ScanBatch> | Iterable<ScanBatch>;
  /** The target's rows, in key order. */
  records: Iterable<FileRecord[]> | AsyncIterable<FileRecord[]>;
  /**
   * The listing, in key order, keys relative to the prefix; undefined when the run
   * trusts the state: each row then stands for its object.
   */
  remote?: AsyncIterable<ListedEntry[]> | Iterable<ListedEntry[]>;
}

/** What {@linkcode classify} needs to decide. */
export interface MergeOptions {
  /** `sync` uploads; `moves` records what the files look like instead. */
  mode: "sync" | "moves";
  /** Excluded paths (files, rows and keys alike). */
  isExcluded(path: string): boolean;
  /** Why a path cannot be a key (too long), or undefined. */
  keyProblem(path: string): string | undefined;
  /** The root's device changed: inodes match across devices. */
  rootDevChanged: boolean;
  /** True when some row of the target has this inode (a rename may explain the file). */
  inodeKnown(ino: bigint): boolean;
  /** Rows were keyed by NFC names (before schema 5): decomposed names may be renames. */
  nfcKeys: boolean;
  /** Plan the deletes of keys without a local file (`--delete`, or judged for batch). */
  deleteRemote: boolean;
  /** Where the uploads decided on the way go. */
  uploads: UploadQueue;
  /** Where rows decided on the way are written (adoptions, inode changes, `moves`). */
  recorder: StateRecorder;
  /** Told every listed key, in order (to pick the split points of the next listing). */
  onListed?(key: string): void;
  /** Told how many local files each batch of the scan brought (for progress). */
  onScanned?(files: number): void;
  /** Stops the merge (an interrupted run): `classify` rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What the merge decided and what it kept for rename matching. */
export interface Classification {
  /** Rows whose inode left their path, in key order. */
  displaced: Displaced[];
  /** Files a displaced row may explain, in key order. */
  candidates: Candidate[];
  /** Deletes decided on the way: orphans (with deleteRemote) and completions. */
  deletes: DeleteAction[];
  /** Rows to forget: moves whose delete was done (or whose key holds other content now). */
  forgets: string[];
  /** Local files left out, and why. */
  skipped: PlanSkip[];
  /** What the scan could not read or name. */
  scanSkipped: SkippedEntry[];
  /** Files already in S3 as they are locally. */
  unchanged: number;
  /** Objects already in S3 adopted instead of uploaded. */
  adopted: number;
  /** Files whose inode changed at an unchanged path. */
  inodeUpdates: number;
  /** Local files, after excludes. */
  localFiles: number;
  /** Listed objects (or rows standing for them), after excludes. */
  remoteObjects: number;
  /** Local files excluded by patterns. */
  excluded: number;
}

const RECORD_BATCH = 500;

/**
 * A classification of nothing (of a run stopped before the merge ended).
 *
 * @example
 * ```ts
 * emptyClassification().localFiles; // 0
 * ```
 */
export function emptyClassification(): Classification {
  return {
    displaced: [],
    candidates: [],
    deletes: [],
    forgets: [],
    skipped: [],
    scanSkipped: [],
    unchanged: 0,
    adopted: 0,
    inodeUpdates: 0,
    localFiles: 0,
    remoteObjects: 0,
    excluded: 0,
  };
}

/**
 * Merges the three streams and classifies every key (see the module documentation).
 * Uploads go to `options.uploads` and rows to `options.recorder` as they are decided.
 */
export async function classify(input: MergeInput, options: MergeOptions): Promise<Classification> {
  const result = emptyClassification();
  const files = new BatchCursor(scanFiles(input.files, result.scanSkipped, options.onScanned));
  const records = new BatchCursor(input.records);
  const remote = input.remote ? new BatchCursor(input.remote) : undefined;
  let pending: FileRecord[] = [];
  const write = (record: FileRecord) => {
    pending.push(record);
    if (pending.length >= RECORD_BATCH) {
      options.recorder.apply({ upsert: pending });
      pending = [];
    }
  };
  const decide = deciderFor({ ...options, trusted: input.remote === undefined }, result, write);
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      // A head in hand needs no await (one per key and stream would cost a microtask
      // each): ready() is awaited only where a batch is used up.
      const haveFile = files.peek() !== undefined || await files.ready();
      const haveRecord = records.peek() !== undefined || await records.ready();
      const haveRemote = remote !== undefined &&
        (remote.peek() !== undefined || await remote.ready());
      if (!haveFile && !haveRecord && !haveRemote) break;
      let key: string | undefined;
      const heads = [
        haveFile ? files.peek()!.path : undefined,
        haveRecord ? records.peek()!.path : undefined,
        haveRemote ? remote!.peek()!.key : undefined,
      ];
      for (const head of heads) {
        if (head !== undefined && (key === undefined || compareKeys(head, key) < 0)) key = head;
      }
      const file = heads[0] === key ? files.take() : undefined;
      const record = heads[1] === key ? records.take() : undefined;
      const listedEntry = heads[2] === key ? remote!.take() : undefined;
      if (listedEntry) options.onListed?.(listedEntry.key);
      decide(key!, { file, record, listed: listedEntry });
    }
  } finally {
    await files.close();
    await records.close();
    await remote?.close();
    if (pending.length > 0) options.recorder.apply({ upsert: pending });
  }
  return result;
}

async function* scanFiles(
  source: AsyncIterable<ScanBatch> | Iterable<ScanBatch>,
  skipped: SkippedEntry[],
  onScanned: ((files: number) => void) | undefined,
): AsyncIterable<LocalFile[]> {
  for await (const batch of source) {
    skipped.push(...batch.skipped);
    onScanned?.(batch.files.length);
    if (batch.files.length > 0) yield batch.files;
  }
}

/** What the three streams hold at one key. */
interface AtKey {
  file?: LocalFile;
  record?: FileRecord;
  listed?: ListedEntry;
}

function deciderFor(
  options: MergeOptions & { trusted: boolean },
  result: Classification,
  write: (record: FileRecord) => void,
): (key: string, at: AtKey) => void {
  const upload = (file: LocalFile, record: FileRecord | undefined, reason: UploadReason) => {
    if (options.mode === "sync") options.uploads.push({ key: file.path, file, reason });
    else {
      const row = localRowOf(file, record);
      if (row) write(row);
    }
  };
  return (key, at) => {
    let { file, record } = at;
    if (options.isExcluded(key)) {
      if (file) result.excluded++;
      return;
    }
    // Trusting the state, a row stands for its object.
    let object: RemoteEntry | undefined = options.trusted
      ? (record && listedFromRecord(record))
      : at.listed;
    if (object) result.remoteObjects++;
    if (file) {
      const problem = options.keyProblem(file.path);
      if (problem) {
        result.scanSkipped.push({ path: file.path, kind: "invalid name", reason: problem });
        file = undefined;
      }
    }
    if (key.startsWith(TEMP_FOLDER)) {
      if (file) {
        result.skipped.push({ path: file.path, reason: `"${TEMP_FOLDER}" is reserved for swaps` });
      }
      if (record) result.displaced.push({ record, listed: object, replaced: false });
      else if (object) {
        // Left by a run that died during a swap; its content is still at the original key.
        result.deletes.push({
          key,
          size: object.size,
          reason: "leftover temporary key",
          temporary: true,
        });
      }
      return;
    }
    if (file) result.localFiles++;
    // A row whose object was copied elsewhere: its key waits to be deleted — unless a
    // file is at its path again: that file is new here, and the key holds the old content.
    if (record?.movedTo !== undefined) {
      if (file) {
        record = undefined;
        object = undefined;
      } else {
        const same = object !== undefined &&
          (record.etag === undefined || object.etag === undefined || object.etag === record.etag);
        if (same) {
          result.deletes.push({
            key,
            size: record.size,
            reason: `moved to "${record.movedTo}"; finishing the delete`,
            temporary: true,
          });
        } else result.forgets.push(key); // already deleted, or someone else's object now
        return;
      }
    }
    if (!file) {
      if (record) result.displaced.push({ record, listed: object, replaced: false });
      else if (object && options.deleteRemote) {
        result.deletes.push({ key, size: object.size, reason: "no local file" });
      }
      return;
    }
    if (record && !sameInode(record, file, options.rootDevChanged)) {
      result.displaced.push({ record, listed: object, replaced: true });
      result.candidates.push({ file, record, listed: object });
      return;
    }
    if (
      !record && (
        options.inodeKnown(file.ino) ||
        (options.nfcKeys && file.path !== file.path.normalize("NFC"))
      )
    ) {
      result.candidates.push({ file, listed: object });
      return;
    }
    applyDecision(decideFile(file, record, object), { file, record, result, write, upload });
  };
}

/** Counts a decision and hands its row or upload on. */
export function applyDecision(
  decision: FileDecision,
  context: {
    file: LocalFile;
    record: FileRecord | undefined;
    result: { unchanged: number; adopted: number; inodeUpdates: number };
    write(record: FileRecord): void;
    upload(file: LocalFile, record: FileRecord | undefined, reason: UploadReason): void;
  },
): void {
  const { result } = context;
  if (decision.kind === "unchanged") result.unchanged++;
  else if (decision.kind === "record") {
    if (decision.adopted) result.adopted++;
    if (decision.inodeUpdate) result.inodeUpdates++;
    if (!decision.adopted && !decision.inodeUpdate) result.unchanged++;
    context.write(decision.record);
  } else context.upload(context.file, context.record, decision.reason);
}
