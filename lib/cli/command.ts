/**
 * The shape every command has: its help (usage, description, options, examples, exit
 * codes), a pure `parse` from parsed arguments to its options, and a `run` that
 * receives its side effects. `commands.ts` puts them in one table.
 *
 * @module
 */
import { type ExitCodeValue, UsageError } from "../errors.ts";
import type { ObjectStore } from "../s3/store.ts";
import { S3Store } from "../s3/aws_store.ts";
import {
  type ConnectionOptions,
  createListClient,
  createS3Client,
  effectiveEndpoint,
} from "../s3/client.ts";
import { endpointProblem } from "../s3/location.ts";
import { profileProblem } from "../s3/profiles.ts";
import { FileRegistry, type TargetRegistry } from "../state/registry.ts";
import { type AwsRunner, systemAws } from "./batch/aws_cli.ts";
import { type OptionName, optionsHelp, type ParsedArgs } from "./options.ts";

/** What a command hands back to `main.ts`. */
export interface CommandResult {
  /** The exit code. */
  exitCode: ExitCodeValue;
  /** Printed on stdout as JSON when `--json` was given. */
  json?: unknown;
}

/** Side effects of the commands, swappable in tests. */
export interface CliDeps {
  /** Makes the object store for a bucket. */
  openStore(connection: ConnectionOptions, bucket: string): Promise<ObjectStore>;
  /** The registry of synced targets (`~/.s3-smart-sync/targets.json`). */
  registry: TargetRegistry;
  /** Locates and runs `aws` (batch). */
  aws: AwsRunner;
}

/** The real side effects: S3 through the AWS SDK, the registry in the home folder, aws. */
export const defaultCliDeps: CliDeps = {
  async openStore(connection, bucket) {
    refuseBadConnection(connection, bucket);
    const client = await createS3Client(connection);
    const listClient = await createListClient(connection, client);
    return new S3Store(client, bucket, { ...connection.transfer, listClient });
  },
  get registry() {
    return new FileRegistry();
  },
  aws: systemAws,
};

/**
 * Refuses, before any request, an endpoint URL that cannot work (no scheme, another
 * scheme, the bucket in its path) and a `--profile` no AWS file defines.
 *
 * @throws {UsageError} saying what to write instead.
 */
export function refuseBadConnection(connection: ConnectionOptions, bucket: string): void {
  const endpoint = effectiveEndpoint(connection);
  if (endpoint !== undefined) {
    const source = connection.endpoint
      ? "--endpoint-url"
      : Deno.env.get("AWS_ENDPOINT_URL_S3")
      ? "AWS_ENDPOINT_URL_S3"
      : "AWS_ENDPOINT_URL";
    const problem = endpointProblem(endpoint, bucket, source);
    if (problem) throw new UsageError(problem);
  }
  if (connection.profile) {
    const problem = profileProblem(connection.profile);
    if (problem) throw new UsageError(problem);
  }
}

/** A command: its help, how it parses its arguments, and how it runs. */
export interface CommandSpec<T> {
  /** The command's name, e.g. `sync`. */
  name: string;
  /** Its arguments, as in `sync <local_dir> <s3://bucket[/prefix]>`. */
  synopsis: string;
  /** One line for the overview. */
  summary: string;
  /** What it does, a paragraph or two. */
  description: string;
  /** The options it takes, in the order its help lists them. */
  options: readonly OptionName[];
  /** Command lines that show it in use. */
  examples: readonly string[];
  /** What each exit code means for it, a line each ("0  done"). */
  exitCodes: readonly string[];
  /**
   * Turns parsed arguments into its options.
   *
   * @throws {UsageError} on bad arguments or values.
   */
  parse(args: ParsedArgs): T;
  /** Runs it with parsed options. */
  run(options: T, deps: CliDeps): Promise<CommandResult>;
}

/**
 * The full help of a command: usage, description, its options only, examples, exit codes.
 *
 * @example
 * ```ts
 * const spec: CommandSpec<void> = {
 *   name: "hello",
 *   synopsis: "",
 *   summary: "says hello",
 *   description: "Says hello.",
 *   options: ["help"],
 *   examples: ["s3-smart-sync hello"],
 *   exitCodes: ["0  always"],
 *   parse: () => {},
 *   run: () => Promise.resolve({ exitCode: 0 }),
 * };
 * console.log(commandHelp(spec));
 * ```
 */
export function commandHelp<T>(spec: CommandSpec<T>): string {
  const usage = `Usage: s3-smart-sync ${spec.name}${spec.synopsis ? ` ${spec.synopsis}` : ""}${
    spec.options.length > 1 ? " [options]" : ""
  }`;
  return [
    usage,
    "",
    spec.description,
    "",
    "Options:",
    ...optionsHelp(spec.options),
    "",
    "Examples:",
    ...spec.examples.map((example) => `  ${example}`),
    "",
    "Exit codes:",
    ...spec.exitCodes.map((line) => `  ${line}`),
  ].join("\n");
}

/** The exit codes of a run stopped by a signal (every command that changes something). */
export const INTERRUPT_EXIT_CODES: readonly string[] = [
  "130  interrupted by Ctrl-C (SIGINT), 143 stopped by SIGTERM: what was done is recorded;",
  "     run again to continue",
];

/** Exit codes of the commands that sync a target. */
export const TARGET_EXIT_CODES: readonly string[] = [
  "0  done",
  "1  an operation failed or S3 was unreachable (work done so far is kept and recorded), or",
  "   another run holds this target's lock",
  "2  usage or configuration error: bad arguments, a missing or empty directory, an unknown",
  "   bucket, rejected credentials, refused deletes, a damaged or foreign state DB (nothing",
  "   was changed)",
  "3  done, but something needs you: moves wait for archived objects to be restored (run",
  '   "s3-smart-sync restore"), or files were skipped as unreadable',
  ...INTERRUPT_EXIT_CODES,
];
