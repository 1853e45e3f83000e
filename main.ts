/**
 * Command-line entry point of s3-smart-sync: parses the command, runs it, and maps
 * errors to exit codes. The only module that exits.
 *
 * @module
 */
import { batch } from "./lib/cli/batch/batch.ts";
import { MAIN_HELP } from "./lib/cli/help.ts";
import { init } from "./lib/cli/init.ts";
import { moves } from "./lib/cli/moves.ts";
import { restore } from "./lib/cli/restore.ts";
import { restoreStatus } from "./lib/cli/restore_status.ts";
import { status } from "./lib/cli/status.ts";
import { sync } from "./lib/cli/sync.ts";
import type { CommandResult } from "./lib/cli/target.ts";
import { ExitCode, OperationError, UsageError } from "./lib/errors.ts";
import { VERSION } from "./lib/version.ts";

const COMMANDS: Record<string, (argv: string[]) => Promise<CommandResult>> = {
  sync,
  moves,
  status,
  restore,
  "restore-status": restoreStatus,
  init,
  batch,
};

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(MAIN_HELP);
    return command === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    console.log(`s3-smart-sync ${VERSION}`);
    return ExitCode.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(
      `error: Unknown command "${command}". Commands: ${
        Object.keys(COMMANDS).join(", ")
      }. Run "s3-smart-sync --help".`,
    );
    return ExitCode.usage;
  }
  const wantsJson = rest.includes("--json");
  try {
    const result = await run(rest);
    if (wantsJson && result.json !== undefined) console.log(JSON.stringify(result.json));
    return result.exitCode;
  } catch (error) {
    const code = error instanceof UsageError
      ? ExitCode.usage
      : error instanceof OperationError
      ? ExitCode.failure
      : ExitCode.failure;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    if (!(error instanceof UsageError || error instanceof OperationError)) {
      if (rest.includes("--verbose") || rest.includes("-v")) console.error(error);
    }
    if (wantsJson) console.log(JSON.stringify({ command, error: message, exitCode: code }));
    return code;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
