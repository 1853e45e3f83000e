/**
 * The batch config file (`~/.s3-smart-sync.conf`): one target a line,
 * `local_path | bucket | prefix | excludes`, its parser and the commented sample
 * that `init` writes.
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { homeDir, withoutSlash } from "../../fs.ts";
import { bucketNameProblem, formatS3Url, parseS3Url, type S3Location } from "../../s3/location.ts";

/** Name of the config file in the home folder. */
export const CONFIG_NAME = ".s3-smart-sync.conf";

/** One line of the config: a local directory, where it goes, what to leave out. */
export interface BatchTarget {
  /** The local directory (absolute, without a trailing "/"). */
  localPath: string;
  /** Bucket and prefix ("" or ending in "/"). */
  location: S3Location;
  /** Exclude patterns (`aws s3 sync` semantics). */
  excludes: string[];
  /** Line number in the config file (from 1). */
  line: number;
}

/** `~/.s3-smart-sync.conf`. */
export function defaultConfigPath(): string {
  return `${homeDir()}/${CONFIG_NAME}`;
}

/** The commented sample config that `init` writes. */
export const SAMPLE_CONFIG = `# s3-smart-sync batch configuration
#
# "s3-smart-sync batch" reads this file and, for each target line below, in order:
#   1. moves the objects of renamed files and folders server-side (as "s3-smart-sync moves"),
#   2. runs "aws s3 sync <local_path> s3://<bucket>/<prefix> --delete" with the excludes below
#      (or, with --engine native, the built-in "s3-smart-sync sync --delete").
#
# One target a line, four fields separated by "|" (spaces around them are ignored):
#
#   local_path | bucket | prefix | excludes
#
#   local_path  the directory to mirror; an absolute path ("~/" is your home folder).
#               When it is missing or empty as batch comes to it (an unmounted volume),
#               that target is skipped and reported, and the others run. The state file
#               .s3-smart-sync.db is kept in it and is never uploaded.
#   bucket      the S3 bucket name alone, e.g. my-nas-backup (not s3://...).
#   prefix      the folder in the bucket, e.g. photos or nas/photos; leave it empty to sync
#               into the root of the bucket. A trailing "/" is added for you.
#   excludes    optional: patterns to leave out, comma-separated, e.g. *.tmp,@eaDir/*
#               They work as with "aws s3 sync --exclude": matched against the path relative
#               to local_path, and "*" also matches "/" (so *.tmp excludes a/b/c.tmp, but
#               @eaDir/* only the @eaDir folder at the top: add */@eaDir/* for the others).
#               A pattern cannot contain a comma.
#
# Lines starting with "#" are comments; blank lines are ignored. Two lines may not name the
# same local_path and bucket/prefix, nor overlapping prefixes of one bucket (with --delete one
# would delete the other's objects). Endpoint, profile, region and storage class are given on
# the command line, e.g.:
#
#   s3-smart-sync batch --storage-class DEEP_ARCHIVE --profile nas
#
# Examples (remove the leading "# " to use them):
#
# /volume1/photos    | my-nas-backup | photos    | @eaDir/*,*/@eaDir/*,*.tmp,.DS_Store,*/.DS_Store
# /volume1/documents | my-nas-backup | documents |
# ~/music            | my-music      |           | *.part
`;

/** How `parseConfig` checks a local path; returns what is wrong, or undefined. */
export type PathCheck = (path: string) => string | undefined;

/**
 * The default {@linkcode PathCheck}: a path that exists must be a directory. A missing
 * path is not a config error: it is usually an unmounted volume, and `batch` skips that
 * target when it comes to it, running the others.
 */
export function directoryProblem(path: string): string | undefined {
  try {
    return Deno.statSync(path).isDirectory ? undefined : `local path "${path}" is not a directory`;
  } catch {
    return undefined;
  }
}

function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  return path.startsWith("~/") ? home + path.slice(1) : path;
}

/**
 * Parses the text of a config file. Every problem found is reported, each naming the
 * file and the line.
 *
 * @param text The file's content.
 * @param options `path` names the file in messages; `checkPath` checks each local path
 *   (default: it exists and is a directory); `home` replaces a leading "~".
 * @throws {UsageError} listing every problem: a missing field, an invalid bucket name,
 *   a relative local path or one that is not a directory, a duplicate or overlapping
 *   target. A local path that does not exist is accepted (see {@linkcode directoryProblem}).
 *
 * @example
 * ```ts
 * parseConfig("/volume1/photos | backup | photos | *.tmp,@eaDir/*", { path: "nas.conf" });
 * // [{ localPath: "/volume1/photos", location: { bucket: "backup", prefix: "photos/" },
 * //    excludes: ["*.tmp", "@eaDir/*"], line: 1 }]
 * ```
 */
export function parseConfig(
  text: string,
  options: { path: string; checkPath?: PathCheck; home?: string },
): BatchTarget[] {
  const checkPath = options.checkPath ?? directoryProblem;
  const home = options.home ?? homeDir();
  const problems: string[] = [];
  const targets: BatchTarget[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const result = parseLine(trimmed, { line: index + 1, checkPath, home, targets });
    if (typeof result === "string") problems.push(`"${options.path}" line ${index + 1}: ${result}`);
    else targets.push(result);
  });
  if (problems.length > 0) {
    throw new UsageError(`${problems.join("\n")}\nNothing was changed.`);
  }
  return targets;
}

/** Parses one non-comment line; returns the target, or what is wrong with the line. */
function parseLine(
  text: string,
  context: { line: number; checkPath: PathCheck; home: string; targets: BatchTarget[] },
): BatchTarget | string {
  const { line, checkPath, home, targets } = context;
  const fields = text.split("|").map((field) => field.trim());
  if (fields.length > 4) {
    return `${fields.length} fields, expected 4: local_path | bucket | prefix | excludes`;
  }
  const [rawPath = "", bucket = "", prefix = "", excludeList = ""] = fields;
  if (rawPath === "") return "missing field local_path (the directory to mirror)";
  if (bucket === "") return "missing field bucket: write local_path | bucket | prefix | excludes";
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) {
    const hint = bucket.includes("/") || bucket.startsWith("s3:")
      ? "; write the bucket name alone and the prefix in the third field"
      : "";
    return `invalid bucket name "${bucket}": ${bucketProblem}${hint}`;
  }
  const expanded = expandHome(rawPath, home);
  if (!expanded.startsWith("/")) {
    return `local path "${rawPath}" is not absolute; write the full path, e.g. /volume1/photos`;
  }
  const localPath = withoutSlash(expanded);
  const pathProblem = checkPath(localPath);
  if (pathProblem) return pathProblem;
  const location = parseS3Url(`s3://${bucket}/${prefix}`);
  const clash = targets.find((other) =>
    other.location.bucket === location.bucket &&
    (other.location.prefix.startsWith(location.prefix) ||
      location.prefix.startsWith(other.location.prefix))
  );
  if (clash) {
    const url = formatS3Url(location);
    if (clash.localPath === localPath && clash.location.prefix === location.prefix) {
      return `duplicate target: ${localPath} → ${url} is already on line ${clash.line}`;
    }
    return clash.location.prefix === location.prefix
      ? `duplicate target: ${url} is also the target of line ${clash.line} (${clash.localPath}); with --delete each would delete the other's objects`
      : `${url} overlaps ${
        formatS3Url(clash.location)
      } of line ${clash.line}; with --delete one target would delete the other's objects`;
  }
  const excludes = excludeList.split(",").map((pattern) => pattern.trim()).filter(Boolean);
  return { localPath, location, excludes, line };
}

/**
 * Reads and parses a config file.
 *
 * @throws {UsageError} when the file is missing (saying to run `s3-smart-sync init`),
 *   unreadable, has no targets, or has a bad line (see {@linkcode parseConfig}).
 *
 * @example
 * ```ts
 * const targets = readConfig(defaultConfigPath());
 * ```
 */
export function readConfig(
  path: string,
  options: { checkPath?: PathCheck; home?: string } = {},
): BatchTarget[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `Config file "${path}" does not exist. Run "s3-smart-sync init${
          path === defaultConfigPath() ? "" : ` --config ${path}`
        }" to write a commented sample, then add your targets.`,
      );
    }
    throw new UsageError(`Cannot read config file "${path}": ${(error as Error).message}`);
  }
  const targets = parseConfig(text, { path, ...options });
  if (targets.length === 0) {
    throw new UsageError(
      `Config file "${path}" has no targets. Add a line such as "/volume1/photos | my-bucket | photos |".`,
    );
  }
  return targets;
}
