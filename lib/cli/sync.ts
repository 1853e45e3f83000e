/**
 * `sync <local_dir> <s3://bucket[/prefix]>`: server-side moves for renamed files,
 * uploads of new and changed files, and with `--delete`, deletes.
 *
 * @module
 */
import { COMMON_HELP } from "./help.ts";
import {
  type CommandResult,
  defaultDeps,
  parseTargetCommand,
  runTargetCommand,
  type TargetCommandDeps,
} from "./target.ts";

/** Help text of `sync`. */
export const SYNC_HELP = `Usage: s3-smart-sync sync <local_dir> <s3://bucket[/prefix]> [options]

Mirror local_dir in S3. Renamed files and folders are moved server-side (copy + delete
inside S3, 0 bytes uploaded); new files and files whose size or mtime changed are uploaded
(large files in parts); objects already in S3 with the same size (e.g. from aws s3 sync) are
adopted, not uploaded again.

  --delete                  also delete objects whose local file is gone (never excluded keys,
                            never the state DB). Refused when the directory looks unmounted or
                            emptied: no files, or more than half of the objects would go
  --max-delete N            allow up to N deletes (instead of the 50% guard)
  --force-delete            allow any number of deletes

${COMMON_HELP}`;

/**
 * Runs `sync` from argv.
 *
 * @example
 * ```ts
 * const result = await sync(["/volume1/photos", "s3://backup/photos", "--delete"]);
 * Deno.exit(result.exitCode);
 * ```
 */
export async function sync(
  argv: string[],
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const options = parseTargetCommand("sync", argv);
  if (options === "help") {
    console.log(SYNC_HELP);
    return { exitCode: 0 };
  }
  return await runTargetCommand(options, deps);
}
