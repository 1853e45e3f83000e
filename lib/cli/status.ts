/**
 * `status <local_dir> <s3://bucket[/prefix]>`: what `sync` would do.
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

/** Help text of `status`. */
export const STATUS_HELP = `Usage: s3-smart-sync status <local_dir> <s3://bucket[/prefix]> [options]

Print every action "sync" would take (moves, uploads, and with --delete, deletes), each with
its reason, and the totals. Changes nothing: no S3 writes, and the state DB is opened
read-only (it is not created if missing). Pass the same --delete and --exclude as your sync.

  --delete                  include the deletes "sync --delete" would make

${COMMON_HELP}`;

/**
 * Runs `status` from argv.
 *
 * @example
 * ```ts
 * await status(["/volume1/photos", "s3://backup/photos", "--delete"]);
 * ```
 */
export async function status(
  argv: string[],
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const options = parseTargetCommand("status", argv);
  if (options === "help") {
    console.log(STATUS_HELP);
    return { exitCode: 0 };
  }
  return await runTargetCommand(options, deps);
}
