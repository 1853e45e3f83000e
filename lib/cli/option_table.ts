/**
 * Every command-line option, once: its type, its placeholder and its help text; and the
 * groups of options the commands take. A command lists the options it takes; its parser
 * accepts exactly those and its help shows exactly those (options.ts).
 *
 * @module
 */

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
      "also delete objects whose local file is gone (never excluded keys, never the state DB); refused when the directory looks unmounted or emptied: no files, or more than half of the objects (and more than ten) would go",
  },
  "max-delete": {
    type: "string",
    value: "N",
    help: "allow up to N deletes (instead of the 50% guard)",
  },
  "force-delete": {
    type: "boolean",
    help: "allow any number of deletes, also from an empty directory (batch skips one)",
  },
  "storage-class": {
    type: "string",
    value: "CLASS",
    help:
      "storage class of uploads: STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE (REDUCED_REDUNDANCY, which S3 no longer recommends, is accepted too)",
  },
  concurrency: {
    type: "string",
    value: "N",
    help:
      "uploads in flight at most (default 10; batch: for the built-in engine, aws keeps its own setting)",
  },
  "move-concurrency": {
    type: "string",
    value: "N",
    help:
      "server-side copies in flight at most (default 64; DeleteObjects of up to 1,000 keys go 8 at a time): they cost the link nothing, only S3's request rate",
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
    help:
      "upload files from SIZE up in parts (default 16MiB; one no larger than a part goes whole)",
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
      "the target's state DB (and a run's lock) is in DIR instead of in local_dir: for read-only snapshots, whose successive paths share it; restore and restore-status read it there",
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

/** How the bucket is listed, or not. */
export const LISTING_OPTIONS = ["list-concurrency", "trust-state", "max-state-age"] as const;

/** The deletes of `sync --delete` and their guard. */
export const DELETE_OPTIONS = ["delete", "max-delete", "force-delete"] as const;
