/**
 * The command table: every command's help, parse and run in one list, the overview
 * help, and {@linkcode runCommand}, which `main.ts` calls.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { batchCommand } from "./batch/batch.ts";
import {
  type CliDeps,
  commandHelp,
  type CommandResult,
  type CommandSpec,
  defaultCliDeps,
} from "./command.ts";
import { initCommand } from "./init.ts";
import { type OptionName, parseOptions } from "./options.ts";
import { restoreCommand } from "./restore.ts";
import { restoreStatusCommand } from "./restore_status.ts";
import { movesCommand, statusCommand, syncCommand } from "./target.ts";

// Each entry keeps its own option type; the table only needs the common shape.
// deno-lint-ignore no-explicit-any
type AnyCommand = CommandSpec<any>;

/** Every command, in the order the overview lists them. */
export const COMMANDS: readonly AnyCommand[] = [
  syncCommand,
  movesCommand,
  statusCommand,
  restoreCommand,
  restoreStatusCommand,
  batchCommand,
  initCommand,
];

/** The command named `name`, if there is one. */
export function findCommand(name: string): AnyCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** The first command that takes `option`, for "--delete is an option of sync" hints. */
export function commandTaking(option: OptionName): string | undefined {
  return COMMANDS.find((command) => command.options.includes(option))?.name;
}

/** The overview printed by `s3-smart-sync --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const synopses = COMMANDS.map((command) =>
    `${command.name.padEnd(width)} ${command.synopsis}`.trimEnd()
  );
  const column = Math.max(...synopses.map((line) => line.length));
  return `s3-smart-sync ${VERSION}: mirror a local directory (a NAS share) in S3, moving renamed
files and folders server-side instead of uploading them again.

Usage:
${
    COMMANDS.map((command, index) =>
      `  s3-smart-sync ${synopses[index]!.padEnd(column)}   ${command.summary}`
    ).join("\n")
  }

Run "s3-smart-sync help COMMAND" or "s3-smart-sync COMMAND --help" for a command's options,
examples and exit codes; "s3-smart-sync --version" prints the version.

How renames are found: the state file .s3-smart-sync.db in local_dir (or in --state-dir)
remembers each file's inode, size and mtime. A file whose inode was recorded at another
path that is gone, with the same size and mtime, whose old object is still in S3, is moved
with CopyObject + delete.`;
}

/**
 * Runs one command with its arguments: prints its help for `-h`/`--help`, else parses
 * them and runs it.
 *
 * @throws {UsageError} for an unknown command or bad arguments; whatever the command throws.
 */
export async function runCommand(
  name: string,
  argv: string[],
  deps: CliDeps = defaultCliDeps,
): Promise<CommandResult> {
  const command = findCommand(name);
  if (!command) {
    throw new UsageError(
      `Unknown command "${name}". Commands: ${
        COMMANDS.map((entry) => entry.name).join(", ")
      }. Run "s3-smart-sync --help".`,
    );
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(commandHelp(command));
    return { exitCode: 0 };
  }
  const args = parseOptions(command.name, argv, command.options, { elsewhere: commandTaking });
  return await command.run(command.parse(args), deps);
}
