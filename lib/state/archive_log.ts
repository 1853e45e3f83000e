/**
 * `archive_restore_needed.log`: a report, beside the `logs/` folder, of every move that
 * waits for an archived object to be restored (one tab-separated line per key). The
 * state DBs are the truth; this file is rewritten from them after each run.
 *
 * @module
 */
import type { DeferredRecord } from "../model.ts";
import { withoutSlash } from "../fs.ts";

/** A line of `archive_restore_needed.log`. */
export interface ArchiveLogEntry {
  /** When the move was first deferred. */
  firstDeferred: Date;
  /** Storage class of the archived object. */
  storageClass: string;
  /** Bucket. */
  bucket: string;
  /** Full key of the archived object. */
  oldKey: string;
  /** Full key it moves to. */
  newKey: string;
  /** Prefix of the target ("" or ending in "/"). */
  prefix: string;
  /** The synced local directory (where the state DB is). */
  localDir: string;
  /** Endpoint URL, or "" for AWS. */
  endpoint: string;
}

/** Name of the file that lists the moves waiting for a restore. */
export const ARCHIVE_LOG_NAME = "archive_restore_needed.log";

/** `archive_restore_needed.log` beside the `logs/` folder. */
export function archiveLogPath(logDir: string): string {
  const trimmed = withoutSlash(logDir);
  const slash = trimmed.lastIndexOf("/");
  const parent = slash > 0 ? trimmed.slice(0, slash) : slash === 0 ? "" : ".";
  return `${parent}/${ARCHIVE_LOG_NAME}`;
}

const HEADER = [
  "# s3-smart-sync: moves waiting for archived objects to be restored (a report: the state DB",
  "# of each target is the truth).",
  '# Run "s3-smart-sync restore" to start the restores, "s3-smart-sync restore-status" to follow them;',
  "# the next sync, moves or batch completes each move once its object is restored.",
  "# first_deferred\tstorage_class\told\tnew\tlocal_dir\tendpoint\tprefix",
];

function escapeField(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(
    /\r/g,
    "\\r",
  );
}

function unescapeField(text: string): string {
  return text.replace(
    /\\([\\tnr])/g,
    (_, char: string) => char === "t" ? "\t" : char === "n" ? "\n" : char === "r" ? "\r" : "\\",
  );
}

/** Formats one entry as a log line. */
export function formatArchiveLine(entry: ArchiveLogEntry): string {
  return [
    entry.firstDeferred.toISOString(),
    entry.storageClass,
    `s3://${entry.bucket}/${escapeField(entry.oldKey)}`,
    `s3://${entry.bucket}/${escapeField(entry.newKey)}`,
    escapeField(entry.localDir),
    entry.endpoint || "-",
    escapeField(entry.prefix),
  ].join("\t");
}

/** Parses a log line; returns undefined for comments, blank and unreadable lines. */
export function parseArchiveLine(line: string): ArchiveLogEntry | undefined {
  if (line.trim() === "" || line.startsWith("#")) return undefined;
  const fields = line.split("\t");
  if (fields.length < 7) return undefined;
  const [first, storageClass, oldUrl, newUrl, localDir, endpoint, prefix] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const oldMatch = /^s3:\/\/([^/]+)\/(.*)$/s.exec(oldUrl);
  const newMatch = /^s3:\/\/([^/]+)\/(.*)$/s.exec(newUrl);
  const firstDeferred = new Date(first);
  if (!oldMatch || !newMatch || Number.isNaN(firstDeferred.getTime())) return undefined;
  return {
    firstDeferred,
    storageClass,
    bucket: oldMatch[1]!,
    oldKey: unescapeField(oldMatch[2]!),
    newKey: unescapeField(newMatch[2]!),
    localDir: unescapeField(localDir),
    endpoint: endpoint === "-" ? "" : endpoint,
    prefix: unescapeField(prefix),
  };
}

/** Reads every entry of the log; a missing file reads as empty. */
export function readArchiveLog(path: string): ArchiveLogEntry[] {
  return entriesOf(readIfThere(path) ?? "");
}

function entriesOf(text: string): ArchiveLogEntry[] {
  return text.split("\n").map(parseArchiveLine).filter((entry) => entry !== undefined);
}

/** The file's text, or undefined when there is no such file. */
function readIfThere(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Identifies the entries of one target in the log. */
export interface ArchiveLogTarget {
  /** The synced local directory. */
  localDir: string;
  /** Endpoint URL, or "". */
  endpoint: string;
  /** Bucket. */
  bucket: string;
  /** Prefix. */
  prefix: string;
}

function sameTarget(entry: ArchiveLogEntry, target: ArchiveLogTarget): boolean {
  return entry.localDir === target.localDir && entry.endpoint === target.endpoint &&
    entry.bucket === target.bucket && entry.prefix === target.prefix;
}

/**
 * Replaces the entries of one target in the log with `deferred`, keeping the other
 * targets' lines, and removes the file when nothing is pending any more. Writes only
 * when the content changes.
 */
export function updateArchiveLog(
  path: string,
  update: { target: ArchiveLogTarget; deferred: readonly DeferredRecord[] },
): void {
  const { target } = update;
  const previous = readIfThere(path);
  const others = entriesOf(previous ?? "").filter((entry) => !sameTarget(entry, target));
  const mine: ArchiveLogEntry[] = update.deferred.map((move) => ({
    firstDeferred: new Date(move.firstDeferredMs),
    storageClass: move.storageClass ?? "STANDARD",
    bucket: target.bucket,
    oldKey: target.prefix + move.from,
    newKey: target.prefix + move.to,
    localDir: target.localDir,
    endpoint: target.endpoint,
    prefix: target.prefix,
  }));
  const entries = [...others, ...mine];
  if (entries.length === 0) {
    if (previous !== undefined) Deno.removeSync(path);
    return;
  }
  const text = [...HEADER, ...entries.map(formatArchiveLine)].join("\n") + "\n";
  if (text === previous) return;
  const dir = path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".";
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(temporary, text, { mode: 0o600 });
  Deno.renameSync(temporary, path);
}
