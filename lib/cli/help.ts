/**
 * Help texts: the overview and the options shared by the target commands.
 *
 * @module
 */
import { VERSION } from "../version.ts";

/** Options shared by sync, moves and status. */
export const COMMON_HELP = `Options:
  --dry-run                 print what would be done; change nothing in S3 or the state DB
  --exclude PATTERN         skip paths matching PATTERN (repeatable); aws s3 sync semantics:
                            matched against the path relative to local_dir, "*" also matches "/"
  --storage-class CLASS     storage class of uploads: STANDARD, STANDARD_IA, ONEZONE_IA,
                            INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE
  --concurrency N           S3 requests in flight at most (default 10)
  --endpoint-url URL        S3-compatible server (MinIO, B2, Wasabi, R2); path-style addressing.
                            Also read from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
  --profile NAME            profile in ~/.aws/credentials and ~/.aws/config (or AWS_PROFILE)
  --region REGION           region (or AWS_REGION, AWS_DEFAULT_REGION, the profile's; default us-east-1)
  --verify-moves            before each move, compare the file's MD5 with the object's ETag
                            (where it is an MD5); on a mismatch upload instead of moving
                            ("moves" only skips the move and leaves the upload to the uploader)
  --sse AES256|aws:kms      server-side encryption of uploads (moves keep each object's own)
  --sse-kms-key-id ID       KMS key for --sse aws:kms
  --full-checksums          with --endpoint-url, send the SDK's CRC32 checksums on every request
                            (default: only where required, and Content-MD5 on DeleteObjects,
                            which B2, R2 and older MinIO need)
  --multipart-threshold SIZE, --multipart-chunksize SIZE
                            upload files from SIZE in parts of SIZE (default 16MiB; parts grow
                            so that any file up to 5 TiB fits in 10,000)
  --copy-multipart-threshold SIZE, --copy-part-size SIZE
                            copy objects above SIZE in parts (default 5GiB, CopyObject's limit;
                            parts of 512MiB)
  --json                    print one JSON object with the results on stdout at the end
  -q, --quiet               print only warnings, errors and what needs you (for cron)
  -v, --verbose             print every action
  --log-dir DIR             folder for run logs (default ~/.s3-smart-sync/logs)
  -h, --help                this help

Credentials come from the AWS SDK's default chain: environment variables, ~/.aws profiles,
SSO, instance roles.

Exit codes: 0 done; 1 an operation failed or S3 was unreachable (work done so far is kept);
2 usage or configuration error (nothing was changed); 3 done, but something needs the user
(files skipped as unreadable).`;

/** The overview printed by `s3-smart-sync --help`. */
export const MAIN_HELP =
  `s3-smart-sync ${VERSION}: mirror a local directory (a NAS share) in S3, moving renamed
files and folders server-side instead of uploading them again.

Usage:
  s3-smart-sync sync    <local_dir> <s3://bucket[/prefix]>   moves + uploads (+ deletes with --delete)
  s3-smart-sync moves   <local_dir> <s3://bucket[/prefix]>   server-side moves only; no uploads, no deletes
  s3-smart-sync status  <local_dir> <s3://bucket[/prefix]>   what sync would do; changes nothing
  s3-smart-sync restore [--days N] [--tier T]              start restores for objects that deferred moves need
  s3-smart-sync restore-status                             progress of those restores
  s3-smart-sync batch   [--config FILE] [--dry-run]        for each config target: moves, then aws s3 sync
  s3-smart-sync init    [--config FILE] [--force]          write a commented sample batch config

Run "s3-smart-sync COMMAND --help" for a command's options.
  --version                 print the version

How renames are found: the state file .s3-smart-sync.db in local_dir remembers each file's
inode, size and mtime. A file whose inode was recorded at another path that is gone, with the
same size and mtime, whose old object is still in S3, is moved with CopyObject + delete.`;
