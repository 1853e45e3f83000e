/**
 * Parsing of the options that several commands share: argv errors as usage errors,
 * counts, sizes, storage classes, and the connection and transfer options.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { errorMessage, UsageError } from "../errors.ts";
import type { ConnectionOptions } from "../s3/aws_store.ts";

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

/** Options of every command that talks to S3 and reports: connection, output, log, help. */
export const BASE_OPTIONS = {
  "endpoint-url": { type: "string" },
  profile: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  "log-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

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

/** Connection and transfer options shared by every command that talks to S3. */
export function parseConnection(values: {
  "endpoint-url"?: string;
  profile?: string;
  region?: string;
  sse?: string;
  "sse-kms-key-id"?: string;
  "full-checksums"?: boolean;
  "multipart-threshold"?: string;
  "multipart-chunksize"?: string;
  "copy-multipart-threshold"?: string;
  "copy-part-size"?: string;
}): ConnectionOptions {
  const sse = values.sse;
  if (sse !== undefined && sse !== "AES256" && sse !== "aws:kms") {
    throw new UsageError(`--sse takes AES256 or aws:kms, not "${sse}".`);
  }
  if (values["sse-kms-key-id"] !== undefined && sse !== "aws:kms") {
    throw new UsageError("--sse-kms-key-id needs --sse aws:kms.");
  }
  const MiB5 = 5 * 1024 * 1024;
  return {
    endpoint: values["endpoint-url"],
    profile: values.profile,
    region: values.region,
    fullChecksums: values["full-checksums"] ?? false,
    transfer: {
      sse: sse ? { algorithm: sse, kmsKeyId: values["sse-kms-key-id"] } : undefined,
      multipartThreshold: parseSize(values["multipart-threshold"], {
        name: "multipart-threshold",
        min: MiB5,
      }),
      partSize: parseSize(values["multipart-chunksize"], {
        name: "multipart-chunksize",
        min: MiB5,
      }),
      copyCutoff: parseSize(values["copy-multipart-threshold"], {
        name: "copy-multipart-threshold",
        min: 1,
      }),
      copyPartSize: parseSize(values["copy-part-size"], { name: "copy-part-size", min: MiB5 }),
    },
  };
}

/**
 * Parses argv with `node:util` parseArgs, turning its errors into a
 * {@linkcode UsageError} that names the command's help.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: { argv: string[]; options: T },
) {
  try {
    return parseArgs({
      args: args.argv,
      options: args.options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      `${
        errorMessage(error).replace(/\. To specify a positional argument.*$/, "")
      }. Run "s3-smart-sync ${command} --help" for the options.`,
    );
  }
}

/** Parses a whole number option within bounds. */
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

/** Validates `--storage-class`. */
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
