/**
 * The second half of the planner, pure: given what the merge kept (rows whose inode left
 * their path, files a rename may explain), it finds the renames, defers the moves whose
 * source is archived, decides the rest, and puts together the {@linkcode Plan}.
 *
 * @module
 */
import type {
  DeferredMove,
  DeleteAction,
  FileRecord,
  LocalFile,
  MoveAction,
  Plan,
  RemoteEntry,
  UploadAction,
  UploadQueue,
  UploadReason,
} from "../model.ts";
import { TEMP_FOLDER } from "../model.ts";
import { ARCHIVE_CLASSES } from "../s3/archive.ts";
import type { Candidate, Classification, Displaced } from "./merge.ts";
import { applyDecision } from "./merge.ts";
import {
  decideFile,
  localRowOf,
  matchesRemote,
  NAME_AS_ON_DISK,
  objectFacts,
  sameContent,
} from "./rules.ts";

/** Options of {@linkcode decide}. */
export interface DecideOptions {
  /** `sync` uploads; `moves` records what the files look like instead. */
  mode: "sync" | "moves";
  /** Plan the deletes of keys without a local file. */
  deleteRemote: boolean;
  /** The root's device changed since the last run: inodes match across devices. */
  rootDevChanged: boolean;
  /** Rows were keyed by NFC names (before schema 5). */
  nfcKeys: boolean;
  /**
   * Defer moves whose source is listed in GLACIER or DEEP_ARCHIVE (and not known to be
   * restored) without trying the copy: AWS refuses it. Servers that only label classes
   * (Ceph RGW) copy such objects, so there the copy is tried.
   */
  deferArchived: boolean;
  /** Where uploads go (the same queue the merge filled). */
  uploads: UploadQueue;
}

/**
 * Finds renames among the kept changes and completes the plan.
 *
 * A move from K_old to K_new is planned only when (1) the file at K_new has the inode (and
 * device, unless the root's device changed) of the row at K_old; (2) that inode no longer
 * lives at K_old (the merge kept the row as displaced); (3) size, mtime and (where both
 * have one) birth time equal the row's; (4) K_old's object is there with that size (and,
 * when we did not upload it ourselves, is not older than the file).
 *
 * @example
 * ```ts
 * import { MemoryUploadQueue } from "./upload_queue.ts";
 * const record = { path: "a.jpg", dev: 1, ino: 7n, size: 5, mtimeMs: 1e12, inS3: true };
 * const file = { path: "b.jpg", dev: 1, ino: 7n, size: 5, mtimeMs: 1e12 };
 * const plan = decide({
 *   displaced: [{ record, listed: { size: 5, lastModifiedMs: 1e12, etag: '"e1"' }, replaced: false }],
 *   candidates: [{ file }],
 *   deletes: [], forgets: [], skipped: [], scanSkipped: [],
 *   unchanged: 0, adopted: 0, inodeUpdates: 0, localFiles: 1, remoteObjects: 1, excluded: 0,
 * }, {
 *   mode: "sync", deleteRemote: false, rootDevChanged: false, nfcKeys: false,
 *   deferArchived: true, uploads: new MemoryUploadQueue(),
 * });
 * console.log(plan.moves.map((move) => `${move.from} → ${move.to}`)); // ["a.jpg → b.jpg"]
 * ```
 */
export function decide(classification: Classification, options: DecideOptions): Plan {
  const { displaced, candidates } = classification;
  const plan: Plan = {
    ...emptyPlan(options.uploads),
    deletes: [...classification.deletes],
    record: { upsert: [], forget: [...classification.forgets] },
    unchanged: classification.unchanged,
    adopted: classification.adopted,
    inodeUpdates: classification.inodeUpdates,
    skipped: [...classification.skipped],
  };
  const claimed = new Map<string, Displaced>();
  const movedTo = new Set<string>();
  matchRenames(displaced, candidates, { options, plan, claimed, movedTo });
  const deferredSources = deferArchivedMoves(plan, { options, displaced: claimed });
  decideRest(candidates, { options, plan, claimed, movedTo, deferredSources });
  finishDisplaced(displaced, { options, plan, claimed, movedTo });
  markCopiesDone(plan.moves, { candidates, claimed });
  markKeptSources(plan.moves, claimed);
  return plan;
}

/**
 * A plan that does nothing (of a run stopped before it planned).
 *
 * @example
 * ```ts
 * import { MemoryUploadQueue } from "./upload_queue.ts";
 * emptyPlan(new MemoryUploadQueue()).moves; // []
 * ```
 */
export function emptyPlan(uploads: UploadQueue): Plan {
  return {
    moves: [],
    uploads,
    deletes: [],
    record: { upsert: [], forget: [] },
    unchanged: 0,
    adopted: 0,
    inodeUpdates: 0,
    skipped: [],
    deferred: [],
    waiting: [],
  };
}

interface Context {
  options: DecideOptions;
  plan: Plan;
  claimed: Map<string, Displaced>;
  movedTo: Set<string>;
}

/** First pass: every candidate whose inode a displaced row had becomes a move. */
function matchRenames(
  displaced: readonly Displaced[],
  candidates: readonly Candidate[],
  context: Context,
): void {
  const { options, plan, claimed, movedTo } = context;
  const byInode = new Map<bigint, Displaced[]>();
  for (const entry of displaced) {
    const list = byInode.get(entry.record.ino);
    if (list) list.push(entry);
    else byInode.set(entry.record.ino, [entry]);
  }
  const byPath = new Map(displaced.map((entry) => [entry.record.path, entry]));
  for (const candidate of candidates) {
    const { file } = candidate;
    const source = findSource(file, byInode.get(file.ino) ?? [], context) ??
      (options.nfcKeys && candidate.record === undefined
        ? legacySource(file, byPath, context)
        : undefined);
    if (!source) continue;
    claimed.set(source.record.path, source);
    movedTo.add(file.path);
    plan.moves.push(moveOf(source, file));
  }
}

function findSource(
  file: LocalFile,
  sources: readonly Displaced[],
  context: Context,
): Displaced | undefined {
  for (const source of sources) {
    const { record, listed } = source;
    if (context.claimed.has(record.path) || record.path === file.path) continue;
    if (!context.options.rootDevChanged && record.dev !== file.dev) continue;
    if (!sameContent(record, file)) continue;
    if (!listed || listed.size !== file.size) continue;
    if (!record.inS3 && !matchesRemote(listed, file)) continue;
    return source;
  }
  return undefined;
}

/**
 * Before v5, keys were the names normalised to NFC: the row and object of a file whose
 * name is not NFC sit at the NFC form of its name, and move there by name, size and mtime
 * (a remount may have changed the inode).
 */
function legacySource(
  file: LocalFile,
  byPath: ReadonlyMap<string, Displaced>,
  context: Context,
): Displaced | undefined {
  const nfc = file.path.normalize("NFC");
  if (nfc === file.path || context.claimed.has(nfc)) return undefined;
  const source = byPath.get(nfc);
  if (!source || source.replaced) return undefined;
  const { record, listed } = source;
  if (record.size !== file.size || record.mtimeMs !== file.mtimeMs) return undefined;
  if (!listed || listed.size !== file.size) return undefined;
  return record.inS3 || matchesRemote(listed, file) ? source : undefined;
}

function moveOf(source: Displaced, file: LocalFile): MoveAction {
  const { record, listed } = source;
  return {
    from: record.path,
    to: file.path,
    file,
    size: file.size,
    copyDone: false,
    reason: record.path === file.path.normalize("NFC") ? NAME_AS_ON_DISK : "renamed",
    ...objectFacts(listed, record),
  };
}

/**
 * The path of a displaced row whose object is in an archive class and not restored: the
 * source of a move that may have to wait, for `archivedMovesWait` to probe. Undefined
 * when no row is such.
 *
 * @example
 * ```ts
 * archivedSource({ displaced: [] }); // undefined
 * ```
 */
export function archivedSource(
  classification: { displaced: readonly Displaced[] },
): string | undefined {
  for (const { record, listed } of classification.displaced) {
    const { storageClass } = objectFacts(listed, record);
    if (storageClass && ARCHIVE_CLASSES.has(storageClass) && !listed?.restored) {
      return record.path;
    }
  }
  return undefined;
}

/**
 * Moves whose source is archived wait for a restore, and so does every move that needs
 * a waiting move's source key vacated first (chains, cycles). Returns the waiting sources.
 */
function deferArchivedMoves(
  plan: Plan,
  context: { options: DecideOptions; displaced: ReadonlyMap<string, Displaced> },
): Set<string> {
  const deferredSources = new Set<string>();
  if (plan.moves.length === 0 || !context.options.deferArchived) return deferredSources;
  const bySource = new Map(plan.moves.map((move) => [move.from, move]));
  const waiting = new Map<MoveAction, string>();
  for (const move of plan.moves) {
    const restored = context.displaced.get(move.from)?.listed?.restored;
    if (move.storageClass && ARCHIVE_CLASSES.has(move.storageClass) && !restored) {
      waiting.set(move, `source is in ${move.storageClass} and must be restored first`);
    }
  }
  for (let changed = waiting.size > 0; changed;) {
    changed = false;
    for (const move of plan.moves) {
      if (waiting.has(move)) continue;
      const vacating = bySource.get(move.to);
      if (vacating && waiting.has(vacating)) {
        waiting.set(move, `waits for the archived object at "${move.to}" to move first`);
        changed = true;
      }
    }
  }
  if (waiting.size === 0) return deferredSources;
  plan.moves = plan.moves.filter((move) => !waiting.has(move));
  for (const [move, reason] of waiting) {
    deferredSources.add(move.from);
    const deferred: DeferredMove = { from: move.from, to: move.to, size: move.size, reason };
    if (move.storageClass !== undefined) deferred.storageClass = move.storageClass;
    plan.deferred.push(deferred);
  }
  return deferredSources;
}

/** Second pass: candidates no rename explains are unchanged, adopted or uploaded. */
function decideRest(
  candidates: readonly Candidate[],
  context: Context & { deferredSources: ReadonlySet<string> },
): void {
  const { options, plan, claimed, movedTo, deferredSources } = context;
  const write = (record: FileRecord) => plan.record.upsert.push(record);
  const upload = (file: LocalFile, record: FileRecord | undefined, reason: UploadReason) => {
    const action: UploadAction = { key: file.path, file, reason };
    if (deferredSources.has(file.path)) {
      // Uploading here would overwrite the archived object a deferred move still needs.
      plan.waiting.push(action);
    } else if (options.mode === "sync") plan.uploads.push(action);
    else if (claimed.has(file.path)) {
      // moves: this key's row is the source of a move; the next run records this file.
    } else {
      const row = localRowOf(file, record);
      if (row) write(row);
    }
  };
  for (const candidate of candidates) {
    // A move brings (or, deferred, will bring) this file's object.
    if (movedTo.has(candidate.file.path)) continue;
    const { file, record } = candidate;
    // A key whose object a move takes away holds nothing for this file.
    const object: RemoteEntry | undefined = claimed.has(file.path) ? undefined : candidate.listed;
    applyDecision(decideFile(file, record, object), {
      file,
      record,
      result: plan,
      write,
      upload,
    });
  }
}

/**
 * Rows of vanished files are forgotten and, with deleteRemote, their keys deleted; rows
 * at keys a move is about to overwrite are forgotten; temporary rows nothing claimed go.
 */
function finishDisplaced(displaced: readonly Displaced[], context: Context): void {
  const { options, plan, claimed } = context;
  const targets = new Set([...plan.moves, ...plan.deferred].map((move) => move.to));
  for (const entry of displaced) {
    const { record, listed } = entry;
    if (claimed.has(record.path)) continue;
    if (!entry.replaced || targets.has(record.path)) plan.record.forget.push(record.path);
    if (entry.replaced || !listed) continue;
    const deletion: DeleteAction | undefined = record.path.startsWith(TEMP_FOLDER)
      ? { key: record.path, size: listed.size, reason: "leftover temporary key", temporary: true }
      : options.deleteRemote
      ? { key: record.path, size: listed.size, reason: "no local file" }
      : undefined;
    if (deletion) plan.deletes.push(deletion);
  }
}

/**
 * A move whose destination already holds the source's object (same size and ETag) needs
 * no copy: a run died between the copy and recording it.
 */
function markCopiesDone(
  moves: MoveAction[],
  context: { candidates: readonly Candidate[]; claimed: ReadonlyMap<string, Displaced> },
): void {
  if (moves.length === 0) return;
  const listedAt = new Map(
    context.candidates.map((candidate) => [candidate.file.path, candidate.listed]),
  );
  for (const move of moves) {
    // A destination that is itself a move's source holds that other object.
    const destination = context.claimed.has(move.to) ? undefined : listedAt.get(move.to);
    move.copyDone = destination !== undefined && destination.size === move.size &&
      destination.etag !== undefined && destination.etag === move.etag;
  }
}

/**
 * A move keeps its source key when that key gets new content in this run: it is another
 * move's destination, or another file is at that path now.
 */
function markKeptSources(moves: MoveAction[], claimed: ReadonlyMap<string, Displaced>): void {
  if (moves.length === 0) return;
  const destinations = new Set(moves.map((move) => move.to));
  for (const move of moves) {
    if (destinations.has(move.from) || claimed.get(move.from)?.replaced) move.keepSource = true;
  }
}
