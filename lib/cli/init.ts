/**
 * `init [--config FILE] [--force]`: writes the commented sample batch config.
 *
 * @module
 */
import { defaultConfigPath, SAMPLE_CONFIG } from "./batch/config.ts";
import { UsageError } from "../errors.ts";
import { type CommandResult } from "./target.ts";
import { parseCommandArgs } from "./options.ts";

/** Help text of `init`. */
export const INIT_HELP = `Usage: s3-smart-sync init [--config FILE] [--force]

Write a commented sample batch config that explains every field, to ~/.s3-smart-sync.conf
or FILE (readable by you only). Edit it, then run "s3-smart-sync batch".

  --config FILE             where to write (default ~/.s3-smart-sync.conf)
  --force                   overwrite FILE when it exists
  -h, --help                this help

Exit codes: 0 written; 2 the file exists (and --force was not given) or cannot be written.`;

const OPTIONS = {
  config: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Options of `init`, parsed. */
export interface InitOptions {
  /** Where to write the sample. */
  configPath: string;
  /** Overwrite an existing file. */
  force: boolean;
}

/**
 * Parses `init`'s argv; "help" for --help.
 *
 * @throws {UsageError} on an unknown option or an argument.
 */
export function parseInit(argv: string[]): InitOptions | "help" {
  const { values, positionals } = parseCommandArgs("init", { argv, options: OPTIONS });
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new UsageError(
      `"init" takes no arguments, but got "${
        positionals[0]
      }". Use --config FILE to choose the file.`,
    );
  }
  return { configPath: values.config ?? defaultConfigPath(), force: values.force ?? false };
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

/**
 * Runs `init` from argv.
 *
 * @example
 * ```ts
 * await init(["--config", "/volume1/homes/admin/s3-smart-sync.conf"]);
 * ```
 */
export function init(argv: string[]): Promise<CommandResult> {
  try {
    const options = parseInit(argv);
    if (options === "help") {
      console.log(INIT_HELP);
      return Promise.resolve({ exitCode: 0 });
    }
    return Promise.resolve(runInit(options));
  } catch (error) {
    return Promise.reject(error);
  }
}
