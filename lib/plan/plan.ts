/**
 * The planner as one call: {@linkcode classify} merges the three sorted streams and keeps
 * what a rename may explain, {@linkcode decide} finds the renames and completes the plan.
 * `runTarget` calls the two halves itself (it asks S3 about restored sources in between);
 * this is for tools and tests that have the three listings at hand.
 *
 * @module
 */
import type {
  FileRecord,
  ListedEntry,
  LocalFile,
  Plan,
  RemoteEntry,
  StateChange,
  StateRecorder,
} from "../model.ts";
import { compareKeys } from "../scan/key_order.ts";
import { decide } from "./decide.ts";
import { type Classification, classify } from "./merge.ts";
import { MemoryUploadQueue } from "./upload_queue.ts";

/** Options of {@linkcode plan}. */
export interface PlanOptions {
  /** `sync` uploads and deletes; `moves` only moves and records local state. */
  mode: "sync" | "moves";
  /** Plan the deletes of keys without a local file. */
  deleteRemote?: boolean;
  /** The root's device number changed since the last run: match inodes across devices. */
  rootDevChanged?: boolean;
  /** Rows were keyed by NFC names (before schema 5). */
  nfcKeys?: boolean;
  /** Excluded paths (default: none). */
  isExcluded?: (path: string) => boolean;
  /** Defer moves of sources listed in GLACIER or DEEP_ARCHIVE (default true). */
  deferArchived?: boolean;
}

/** The three listings {@linkcode plan} merges, in any order (they are sorted here). */
export interface PlanInput {
  /** Recorded state, by relative key. */
  previous: ReadonlyMap<string, FileRecord>;
  /** Local files. */
  local: readonly LocalFile[];
  /** Remote objects by key relative to the prefix; undefined to trust the state. */
  remote?: ReadonlyMap<string, RemoteEntry>;
}

/** A plan, with the rows the merge wrote on the way and what it counted. */
export interface PlanResult {
  /** The plan. */
  plan: Plan;
  /** Rows decided while merging (adoptions, inode changes, `moves`' local state). */
  written: FileRecord[];
  /** What the merge classified and counted. */
  classification: Classification;
  /** The uploads, in order. */
  uploads: MemoryUploadQueue;
}

/**
 * Plans a run from three in-memory listings.
 *
 * @example
 * ```ts
 * const record = { path: "a.jpg", dev: 1, ino: 7n, size: 5, mtimeMs: 1e12, inS3: true };
 * const { plan: result } = await plan({
 *   previous: new Map([["a.jpg", record]]),
 *   local: [{ path: "b.jpg", dev: 1, ino: 7n, size: 5, mtimeMs: 1e12 }],
 *   remote: new Map([["a.jpg", { size: 5, lastModifiedMs: 1e12, etag: '"e1"' }]]),
 * }, { mode: "sync", deleteRemote: true });
 * console.log(result.moves.map((move) => `${move.from} → ${move.to}`)); // ["a.jpg → b.jpg"]
 * ```
 */
export async function plan(input: PlanInput, options: PlanOptions): Promise<PlanResult> {
  const written: FileRecord[] = [];
  const recorder: StateRecorder = {
    writes: 0,
    apply: (change: StateChange) => written.push(...(change.upsert ?? [])),
  };
  const uploads = new MemoryUploadQueue();
  const records = [...input.previous.values()].sort((a, b) => compareKeys(a.path, b.path));
  const files = [...input.local].sort((a, b) => compareKeys(a.path, b.path));
  const remote = input.remote
    ? [...input.remote].map(([key, entry]): ListedEntry => ({ ...entry, key }))
      .sort((a, b) => compareKeys(a.key, b.key))
    : undefined;
  const inodes = new Set(records.map((record) => record.ino));
  const classification = await classify({
    files: [{ files, skipped: [] }],
    records: [records],
    remote: remote ? [remote] : undefined,
  }, {
    mode: options.mode,
    isExcluded: options.isExcluded ?? (() => false),
    keyProblem: () => undefined,
    rootDevChanged: options.rootDevChanged ?? false,
    inodeKnown: (ino) => inodes.has(ino),
    nfcKeys: options.nfcKeys ?? false,
    deleteRemote: options.deleteRemote ?? false,
    uploads,
    recorder,
  });
  const result = decide(classification, {
    mode: options.mode,
    deleteRemote: options.deleteRemote ?? false,
    rootDevChanged: options.rootDevChanged ?? false,
    nfcKeys: options.nfcKeys ?? false,
    deferArchived: options.deferArchived ?? true,
    uploads,
  });
  return { plan: result, written, classification, uploads };
}
