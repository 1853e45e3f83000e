/**
 * `moves <local_dir> <s3://bucket[/prefix]>`: server-side moves only.
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

/** Help text of `moves`. */
export const MOVES_HELP = `Usage: s3-smart-sync moves <local_dir> <s3://bucket[/prefix]> [options]

Move the objects of renamed files and folders server-side, and nothing else: no uploads, no
deletes. The current local state is recorded, so that when another tool (aws s3 sync, as
"batch" runs it) uploads in between, the next "moves" still recognises renames of those files.
Run it before "aws s3 sync --delete" so that renamed folders are not uploaded again.

${COMMON_HELP}`;

/**
 * Runs `moves` from argv.
 *
 * @example
 * ```ts
 * await moves(["/volume1/photos", "s3://backup/photos"]);
 * ```
 */
export async function moves(
  argv: string[],
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const options = parseTargetCommand("moves", argv);
  if (options === "help") {
    console.log(MOVES_HELP);
    return { exitCode: 0 };
  }
  return await runTargetCommand(options, deps);
}
