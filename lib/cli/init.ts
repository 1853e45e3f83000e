/**
 * `init [--config FILE] [--force]`: writes the commented sample batch config.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { defaultConfigPath, SAMPLE_CONFIG } from "./batch/config.ts";
import type { CommandResult, CommandSpec } from "./command.ts";
import { flagOption, type ParsedArgs, stringOption } from "./options.ts";

/** Options of `init`, parsed. */
export interface InitOptions {
  /** Where to write the sample. */
  configPath: string;
  /** Overwrite an existing file. */
  force: boolean;
}

/**
 * Turns the parsed arguments of `init` into its options.
 *
 * @throws {UsageError} on an argument.
 */
export function parseInit(args: ParsedArgs): InitOptions {
  if (args.positionals.length > 0) {
    throw new UsageError(
      `"init" takes no arguments, but got "${
        args.positionals[0]
      }". Use --config FILE to choose the file.`,
    );
  }
  return {
    configPath: stringOption(args.values, "config") ?? defaultConfigPath(),
    force: flagOption(args.values, "force"),
  };
}

/**
 * Writes the sample config with mode 0600, creating its folder.
 *
 * @throws {UsageError} when the file exists and `force` is not set, or it cannot be written.
 */
export function runInit(options: InitOptions): CommandResult {
  const path = options.configPath;
  const slash = path.lastIndexOf("/");
  try {
    if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true, mode: 0o700 });
    Deno.writeTextFileSync(path, SAMPLE_CONFIG, {
      createNew: !options.force,
      mode: 0o600,
    });
    // mode applies only to a new file; an overwritten one may have been readable by others.
    if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(
        `Config file "${path}" already exists; it was left unchanged. Pass --force to overwrite it with the sample.`,
      );
    }
    throw new UsageError(`Cannot write config file "${path}": ${(error as Error).message}`);
  }
  console.log(
    `Wrote a sample config to ${path}. Add your targets to it, then run "s3-smart-sync batch${
      path === defaultConfigPath() ? "" : ` --config ${path}`
    }".`,
  );
  return { exitCode: 0, json: { command: "init", config: path, exitCode: 0 } };
}

/** `init`: write the commented sample batch config. */
export const initCommand: CommandSpec<InitOptions> = {
  name: "init",
  synopsis: "[--config FILE]",
  summary: "write a commented sample batch config",
  description:
    `Write a commented sample batch config that explains every field, to ~/.s3-smart-sync.conf
or FILE (readable by you only). Edit it, then run "s3-smart-sync batch".`,
  options: ["config", "force", "help"],
  examples: ["s3-smart-sync init", "s3-smart-sync init --config /volume1/homes/admin/backup.conf"],
  exitCodes: ["0  written", "2  the file exists (and --force was not given) or cannot be written"],
  parse: parseInit,
  run: (options) => Promise.resolve(runInit(options)),
};
