/**
 * The parsing of command lines against the option table (option_table.ts, re-exported
 * here): unknown options with the closest one suggested, help lines, and the parsers of
 * option values (counts, sizes, durations, storage classes, the connection and transfer
 * settings, logs, the state folder).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { errorMessage, UsageError } from "../errors.ts";
import { withoutSlash } from "../fs.ts";
import type { ConnectionOptions } from "../s3/client.ts";
import { defaultLogDir } from "../report/log.ts";
import { type OptionName, OPTIONS, type OptionSpec } from "./option_table.ts";

export * from "./option_table.ts";

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

/**
 * `--state-dir`, without a trailing slash; undefined when not given.
 *
 * @throws {UsageError} when it is given empty.
 */
export function stateDirOption(values: OptionValues): string | undefined {
  const dir = stringOption(values, "state-dir");
  if (dir === undefined) return undefined;
  if (dir.trim() === "") throw new UsageError("--state-dir needs a folder.");
  return withoutSlash(dir);
}

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
  option: { name: string; min: number; max?: number },
): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.round(Number(match[1]) * unit) : NaN;
  const max = option.max ?? Infinity;
  if (!Number.isFinite(bytes) || bytes < option.min || bytes > max) {
    const most = max === Infinity ? "" : ` and at most ${formatSizeLimit(max)}`;
    throw new UsageError(
      `--${option.name} takes a size of at least ${option.min} bytes${most}, such as 64MiB, not "${value}".`,
    );
  }
  return bytes;
}

const GiB5 = 5 * 1024 ** 3;

function formatSizeLimit(bytes: number): string {
  return bytes % 1024 ** 3 === 0 ? `${bytes / 1024 ** 3}GiB` : `${bytes} bytes`;
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
  // S3 takes at most 5 GiB in one PutObject, CopyObject or part.
  const size = (name: OptionName, min: number) =>
    parseSize(stringOption(values, name), { name, min, max: GiB5 });
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

/** How much a command prints, and where its run log goes. */
export interface OutputSettings {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  logDir: string;
  logRetentionDays: number;
}

/** What the commands that sync share (see {@linkcode parseRunOptions}). */
export interface RunSettings extends OutputSettings {
  dryRun: boolean;
  storageClass?: string;
  concurrency: number;
  connection: ConnectionOptions;
  maxDelete?: number;
  forceDelete: boolean;
}

/**
 * The output options every command takes: --json, --quiet, --verbose and the run log's.
 *
 * @throws {UsageError} on a bad --log-retention.
 */
export function parseOutputOptions(values: OptionValues): OutputSettings {
  return {
    json: flagOption(values, "json"),
    quiet: flagOption(values, "quiet"),
    verbose: flagOption(values, "verbose"),
    ...parseLogOptions(values),
  };
}

/**
 * What the commands that sync (sync, moves, status, batch) share: dry run, upload class
 * and concurrency, the connection, the output, and the delete guard's limits.
 *
 * @throws {UsageError} on a bad value.
 */
export function parseRunOptions(values: OptionValues): RunSettings {
  return {
    dryRun: flagOption(values, "dry-run"),
    storageClass: parseStorageClass(stringOption(values, "storage-class")),
    concurrency: parseCount(stringOption(values, "concurrency"), {
      name: "concurrency",
      min: 1,
      max: 256,
    }) ?? 10,
    connection: parseConnection(values),
    ...parseOutputOptions(values),
    maxDelete: parseCount(stringOption(values, "max-delete"), {
      name: "max-delete",
      min: 0,
      max: 1e12,
    }),
    forceDelete: flagOption(values, "force-delete"),
  };
}
