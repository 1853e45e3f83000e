/**
 * Every command-line option, once: its type, its placeholder and its help text. A
 * command lists the options it takes; its parser accepts exactly those and its help
 * shows exactly those. Plus the parsers of option values (counts, sizes, storage
 * classes, the connection and transfer settings).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { errorMessage, UsageError } from "../errors.ts";
import type { ConnectionOptions } from "../s3/aws_store.ts";
import { defaultLogDir } from "../report/log.ts";

/** One option: how it parses and how its help reads. */
export interface OptionSpec {
  /** A value (`string`) or a flag (`boolean`). */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
  /** May be given more than once (values collect in a list). */
  multiple?: boolean;
  /** The placeholder of its value in help, e.g. `N`, `DIR`. */
  value?: string;
  /** What it does, in a sentence or two. */
  help: string;
}

/** Every option of every command. */
export const OPTIONS = {
  "dry-run": {
    type: "boolean",
    help: "print what would be done; change nothing in S3 or in the state DB",
  },
  exclude: {
    type: "string",
    multiple: true,
    value: "PATTERN",
    help:
      'skip paths matching PATTERN (repeatable), as aws s3 sync does: matched against the path relative to local_dir, "*" also matches "/"',
  },
  delete: {
    type: "boolean",
    help:
      "also delete objects whose local file is gone (never excluded keys, never the state DB); refused when the directory looks unmounted or emptied: no files, or more than half of the objects would go",
  },
  "max-delete": {
    type: "string",
    value: "N",
    help: "allow up to N deletes (instead of the 50% guard)",
  },
  "force-delete": {
    type: "boolean",
    help: "allow any number of deletes, also from an empty directory",
  },
  "storage-class": {
    type: "string",
    value: "CLASS",
    help:
      "storage class of uploads: STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE",
  },
  concurrency: {
    type: "string",
    value: "N",
    help: "uploads in flight at most (default 10)",
  },
  "move-concurrency": {
    type: "string",
    value: "N",
    help:
      "server-side copies and DeleteObjects in flight at most (default 64): they cost the link nothing, only S3's request rate",
  },
  "list-concurrency": {
    type: "string",
    value: "N",
    help:
      "key ranges of the bucket listed at once (default 16), at split points the last listing kept",
  },
  "trust-state": {
    type: "boolean",
    help:
      "skip the listing while the last full listing is younger than --max-state-age: plan from the scan and the state DB alone (each move's copy still checks its source's ETag); a run in which nothing changed sends no request at all",
  },
  "max-state-age": {
    type: "string",
    value: "AGE",
    help: "how old the last full listing may be for --trust-state, e.g. 12h, 7d (default 7d)",
  },
  "verify-moves": {
    type: "boolean",
    help:
      "before each move, compare the file's MD5 with the object's ETag (where it is an MD5); on a mismatch upload instead of moving (\"moves\" leaves that upload to the uploader)",
  },
  sse: {
    type: "string",
    value: "AES256|aws:kms",
    help: "server-side encryption of uploads (moves keep each object's own)",
  },
  "sse-kms-key-id": { type: "string", value: "ID", help: "KMS key for --sse aws:kms" },
  "full-checksums": {
    type: "boolean",
    help:
      "with --endpoint-url, send the SDK's CRC32 checksums on every request (default: only where required, and Content-MD5 on DeleteObjects, which B2, R2 and older MinIO need)",
  },
  "multipart-threshold": {
    type: "string",
    value: "SIZE",
    help: "upload files from SIZE up in parts (default 16MiB)",
  },
  "multipart-chunksize": {
    type: "string",
    value: "SIZE",
    help: "part size of uploads (default 16MiB; parts grow so that any file up to 5 TiB fits)",
  },
  "copy-multipart-threshold": {
    type: "string",
    value: "SIZE",
    help: "copy objects above SIZE in parts (default 5GiB, CopyObject's limit)",
  },
  "copy-part-size": {
    type: "string",
    value: "SIZE",
    help: "part size of multipart copies (default 512MiB)",
  },
  "endpoint-url": {
    type: "string",
    value: "URL",
    help:
      "S3-compatible server (MinIO, Ceph RGW, B2, Wasabi, R2), e.g. https://s3.example.com; path-style addressing. Also read from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL",
  },
  profile: {
    type: "string",
    value: "NAME",
    help: "profile in ~/.aws/credentials and ~/.aws/config (or AWS_PROFILE)",
  },
  region: {
    type: "string",
    value: "REGION",
    help: "region (or AWS_REGION, AWS_DEFAULT_REGION, the profile's; default us-east-1)",
  },
  json: { type: "boolean", help: "print one JSON object with the results on stdout at the end" },
  quiet: {
    type: "boolean",
    short: "q",
    help: "print only warnings, errors and what needs you (for cron)",
  },
  verbose: { type: "boolean", short: "v", help: "print every action" },
  "log-dir": {
    type: "string",
    value: "DIR",
    help: "folder for run logs (default ~/.s3-smart-sync/logs)",
  },
  "state-dir": {
    type: "string",
    value: "DIR",
    help:
      "keep the state DB and the lock in DIR instead of in local_dir: for read-only snapshots; successive snapshots of a volume share it",
  },
  "log-retention": {
    type: "string",
    value: "DAYS",
    help: "run logs older than this are removed when a run starts (default 30; 0 keeps them all)",
  },
  config: {
    type: "string",
    value: "FILE",
    help: "the batch config file (default ~/.s3-smart-sync.conf)",
  },
  engine: {
    type: "string",
    value: "aws|native",
    help:
      'aws (default): the AWS CLI\'s "aws s3 sync", which must be on PATH; native: the built-in "sync --delete", nothing else needed',
  },
  force: { type: "boolean", help: "overwrite FILE when it exists" },
  days: {
    type: "string",
    value: "N",
    help:
      "days the restored copy stays available (default 7; not sent for Intelligent-Tiering objects, which take no Days)",
  },
  tier: {
    type: "string",
    value: "TIER",
    help:
      "Standard (default: GLACIER 3-5 h, DEEP_ARCHIVE within 12 h), Bulk (cheapest: 5-12 h / within 48 h) or Expedited (GLACIER only, 1-5 minutes)",
  },
  help: { type: "boolean", short: "h", help: "this help" },
} as const satisfies Record<string, OptionSpec>;

/** The name of an option, without its dashes. */
export type OptionName = keyof typeof OPTIONS;

/** Output and logging: every command that runs takes them. */
export const OUTPUT_OPTIONS = [
  "json",
  "quiet",
  "verbose",
  "log-dir",
  "log-retention",
  "help",
] as const;

/**
 * Where run logs go and how long they are kept.
 *
 * @throws {UsageError} on a bad --log-retention.
 */
export function parseLogOptions(
  values: OptionValues,
): { logDir: string; logRetentionDays: number } {
  return {
    logDir: stringOption(values, "log-dir") ?? defaultLogDir(),
    logRetentionDays: parseCount(stringOption(values, "log-retention"), {
      name: "log-retention",
      min: 0,
      max: 36_500,
    }) ?? 30,
  };
}

/** How to reach S3. */
export const CONNECTION_OPTIONS = ["endpoint-url", "profile", "region"] as const;

/** How uploads are made. */
export const UPLOAD_OPTIONS = [
  "storage-class",
  "concurrency",
  "sse",
  "sse-kms-key-id",
  "multipart-threshold",
  "multipart-chunksize",
] as const;

/** How server-side copies are made. */
export const COPY_OPTIONS = [
  "move-concurrency",
  "copy-multipart-threshold",
  "copy-part-size",
  "full-checksums",
] as const;

/** Where the target's state is kept. */
export const STATE_OPTIONS = ["state-dir"] as const;

/**
 * `--state-dir`, without a trailing slash; undefined when not given.
 *
 * @throws {UsageError} when it is given empty.
 */
export function stateDirOption(values: OptionValues): string | undefined {
  const dir = stringOption(values, "state-dir");
  if (dir === undefined) return undefined;
  if (dir.trim() === "") throw new UsageError("--state-dir needs a folder.");
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}

/** How the bucket is listed, or not. */
export const LISTING_OPTIONS = ["list-concurrency", "trust-state", "max-state-age"] as const;

/** The deletes of `sync --delete` and their guard. */
export const DELETE_OPTIONS = ["delete", "max-delete", "force-delete"] as const;

/** Parsed option values, by option name. */
export type OptionValues = Partial<Record<OptionName, string | boolean | string[]>>;

/** What {@linkcode parseOptions} returns. */
export interface ParsedArgs {
  /** The options given. */
  values: OptionValues;
  /** The arguments that are not options. */
  positionals: string[];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/**
 * The option among `names` closest to an unknown `given` one (`--dryrun` → `dry-run`),
 * or undefined when none is close.
 *
 * @example
 * ```ts
 * closestOption("dryrun", ["dry-run", "delete"]); // "dry-run"
 * ```
 */
export function closestOption(given: string, names: readonly string[]): string | undefined {
  const plain = (name: string) => name.toLowerCase().replace(/[-_]/g, "");
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(plain(given), plain(name));
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(plain(given).length / 4))
    ? best.name
    : undefined;
}

/**
 * Parses `argv` for a command that takes the options `names`: an unknown option is a
 * {@linkcode UsageError} that suggests the closest one, or names the command it belongs to.
 *
 * @throws {UsageError} on an unknown option or a missing option value.
 *
 * @example
 * ```ts
 * parseOptions("status", ["/volume1/photos", "s3://b", "--json"], ["json", "help"]);
 * // { values: { json: true }, positionals: ["/volume1/photos", "s3://b"] }
 * ```
 */
export function parseOptions(
  command: string,
  argv: string[],
  names: readonly OptionName[],
  options: { elsewhere?: (option: OptionName) => string | undefined } = {},
): ParsedArgs {
  const config: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> =
    {};
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    config[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: config,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    const message = errorMessage(error);
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
    if (unknown) {
      const given = unknown[2]!;
      const owner = given in OPTIONS ? options.elsewhere?.(given as OptionName) : undefined;
      const closest = closestOption(given, names);
      const hint = owner
        ? ` --${given} is an option of "${owner}", not "${command}".`
        : closest
        ? ` Did you mean --${closest}?`
        : "";
      throw new UsageError(
        `Unknown option "${
          unknown[1]
        }${given}" for "${command}".${hint} Run "s3-smart-sync ${command} --help" for its options.`,
      );
    }
    throw new UsageError(
      `${
        message.replace(/\. To specify a positional argument.*$/, "")
      }. Run "s3-smart-sync ${command} --help" for its options.`,
    );
  }
}

/** A string option's value. */
export function stringOption(values: OptionValues, name: OptionName): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** A flag's value (false when not given). */
export function flagOption(values: OptionValues, name: OptionName): boolean {
  return values[name] === true;
}

/** A repeatable option's values (empty when not given). */
export function listOption(values: OptionValues, name: OptionName): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

/**
 * The help lines of `names`: each option with its placeholder, its text wrapped beside.
 *
 * @example
 * ```ts
 * optionsHelp(["dry-run"]);
 * // ["  --dry-run                 print what would be done; change nothing in S3 or in the state DB"]
 * ```
 */
export function optionsHelp(names: readonly OptionName[]): string[] {
  const lines: string[] = [];
  const column = 28;
  const width = 100;
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${
      spec.value ? ` ${spec.value}` : ""
    }`;
    const words = spec.help.split(" ");
    const text: string[] = [];
    let line = "";
    for (const word of words) {
      if (line && column + line.length + 1 + word.length > width) {
        text.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    text.push(line);
    const head = `  ${flag}`;
    if (head.length < column) lines.push(head.padEnd(column) + text[0]);
    else lines.push(head, " ".repeat(column) + text[0]);
    for (const more of text.slice(1)) lines.push(" ".repeat(column) + more);
  }
  return lines;
}

/** Storage classes accepted by `--storage-class`. */
export const STORAGE_CLASSES = [
  "STANDARD",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
  "REDUCED_REDUNDANCY",
] as const;

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a size such as "8MiB", "8MB", "8M" or "8388608" (units are binary, as with
 * the aws CLI).
 *
 * @throws {UsageError} when it is not a size or is below `min`.
 *
 * @example
 * ```ts
 * parseSize("64MiB", { name: "multipart-chunksize", min: 1 }); // 67108864
 * ```
 */
export function parseSize(
  value: string | undefined,
  option: { name: string; min: number },
): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isFinite(bytes) || bytes < option.min) {
    throw new UsageError(
      `--${option.name} takes a size of at least ${option.min} bytes, such as 64MiB, not "${value}".`,
    );
  }
  return bytes;
}

/**
 * The connection and transfer settings of a command's options.
 *
 * @throws {UsageError} on a bad --sse, --sse-kms-key-id or size.
 */
export function parseConnection(values: OptionValues): ConnectionOptions {
  const sse = stringOption(values, "sse");
  if (sse !== undefined && sse !== "AES256" && sse !== "aws:kms") {
    throw new UsageError(`--sse takes AES256 or aws:kms, not "${sse}".`);
  }
  const kmsKeyId = stringOption(values, "sse-kms-key-id");
  if (kmsKeyId !== undefined && sse !== "aws:kms") {
    throw new UsageError("--sse-kms-key-id needs --sse aws:kms.");
  }
  const MiB5 = 5 * 1024 * 1024;
  const size = (name: OptionName, min: number) =>
    parseSize(stringOption(values, name), { name, min });
  return {
    endpoint: stringOption(values, "endpoint-url"),
    profile: stringOption(values, "profile"),
    region: stringOption(values, "region"),
    fullChecksums: flagOption(values, "full-checksums"),
    transfer: {
      sse: sse ? { algorithm: sse, kmsKeyId } : undefined,
      multipartThreshold: size("multipart-threshold", MiB5),
      partSize: size("multipart-chunksize", MiB5),
      copyCutoff: size("copy-multipart-threshold", 1),
      copyPartSize: size("copy-part-size", MiB5),
    },
  };
}

/**
 * Parses a whole number option within bounds.
 *
 * @throws {UsageError} when it is not a whole number within them.
 */
export function parseCount(
  value: string | undefined,
  option: { name: string; min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < option.min || number > option.max) {
    throw new UsageError(
      `--${option.name} takes a whole number from ${option.min} to ${option.max}, not "${value}".`,
    );
  }
  return number;
}

/**
 * Validates `--storage-class`; STANDARD reads as undefined (the bucket's default).
 *
 * @throws {UsageError} on an unknown class.
 */
export function parseStorageClass(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!(STORAGE_CLASSES as readonly string[]).includes(upper)) {
    throw new UsageError(
      `Unknown storage class "${value}". Use one of ${STORAGE_CLASSES.join(", ")}.`,
    );
  }
  return upper === "STANDARD" ? undefined : upper;
}

const DURATION_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration such as "90m", "12h", "7d" or "2w" into milliseconds.
 *
 * @throws {UsageError} when it is not such a duration.
 *
 * @example
 * ```ts
 * parseDuration("12h", { name: "max-state-age" }); // 43200000
 * ```
 */
export function parseDuration(
  value: string | undefined,
  option: { name: string },
): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(value.trim());
  if (!match) {
    throw new UsageError(
      `--${option.name} takes a duration such as 90m, 12h, 7d or 2w, not "${value}".`,
    );
  }
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!);
}
