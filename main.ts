/**
 * Command-line entry point of s3-smart-sync: parses the command, runs it, and maps
 * errors to exit codes. The only module that exits (but for a second Ctrl-C, which
 * lib/cli/interrupt.ts ends at once).
 *
 * @module
 */
import { commandHelp } from "./lib/cli/command.ts";
import { findCommand, mainHelp, runCommand } from "./lib/cli/commands.ts";
import { ExitCode, OperationError, UsageError } from "./lib/errors.ts";
import { VERSION } from "./lib/version.ts";

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h") {
    console.log(mainHelp());
    return command === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (command === "help") {
    if (rest.length === 0) {
      console.log(mainHelp());
      return ExitCode.ok;
    }
    const topic = findCommand(rest[0]!);
    if (!topic) {
      console.error(`error: Unknown command "${rest[0]}". Run "s3-smart-sync --help".`);
      return ExitCode.usage;
    }
    console.log(commandHelp(topic));
    return ExitCode.ok;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    console.log(`s3-smart-sync ${VERSION}`);
    return ExitCode.ok;
  }
  const wantsJson = rest.includes("--json");
  try {
    const result = await runCommand(command, rest);
    if (wantsJson && result.json !== undefined) console.log(JSON.stringify(result.json));
    return result.exitCode;
  } catch (error) {
    const code = error instanceof UsageError ? ExitCode.usage : ExitCode.failure;
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
