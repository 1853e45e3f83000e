/**
 * `restore-status [<local_dir> <s3://bucket[/prefix]>]`: where the restores of the
 * archived objects that deferred moves wait for stand.
 *
 * @module
 */
import { runPool } from "../pool.ts";
import { RunLog } from "../report/log.ts";
import { parseRestore as parseRestoreHeader } from "../s3/archive.ts";
import { s3ErrorText } from "../s3/errors.ts";
import { type CliDeps, type CommandResult, type CommandSpec, defaultCliDeps } from "./command.ts";
import {
  CONNECTION_OPTIONS,
  OUTPUT_OPTIONS,
  type OutputSettings,
  type ParsedArgs,
  parseOutputOptions,
  STATE_OPTIONS,
  stateDirOption,
} from "./options.ts";
import { endpointOptions, groupsFor, targetArgument } from "./restore.ts";

/** Options of `restore-status`, parsed. */
export interface RestoreStatusOptions extends OutputSettings {
  /** One target (`<local_dir> <s3://…>`), or every registered one. */
  target?: { localDir: string; url: string; stateDir?: string };
  connection: { endpoint?: string; profile?: string; region?: string };
}

/**
 * Turns the parsed arguments of `restore-status` into its options.
 *
 * @throws {UsageError} on another number of arguments than none or two.
 */
export function parseRestoreStatus(args: ParsedArgs): RestoreStatusOptions {
  const { values, positionals } = args;
  return {
    target: targetArgument("restore-status", positionals, stateDirOption(values)),
    connection: endpointOptions(values),
    ...parseOutputOptions(values),
  };
}

/** One object's restore state. */
export interface RestoreStatusLine {
  bucket: string;
  key: string;
  newKey: string;
  storageClass?: string;
  state: "not requested" | "in progress" | "restored" | "missing" | "error";
  restoredUntil?: string;
  message?: string;
}

/** Runs `restore-status` with parsed options: one HeadObject per deferred move's source. */
export async function runRestoreStatus(
  options: RestoreStatusOptions,
  deps: CliDeps = defaultCliDeps,
): Promise<CommandResult> {
  const { connection, logDir } = options;
  const search = groupsFor({ ...options, registry: deps.registry });
  const groups = search.groups.filter((group) => group.moves.length > 0);
  const output = RunLog.open(
    { dir: logDir, command: "restore-status", retentionDays: options.logRetentionDays },
    options,
  );
  const lines: RestoreStatusLine[] = [];
  try {
    for (const group of groups) {
      const store = await deps.openStore(
        { ...connection, endpoint: connection.endpoint ?? (group.endpoint || undefined) },
        group.bucket,
      );
      const found: RestoreStatusLine[] = [];
      await runPool(group.moves, {
        concurrency: 10,
        worker: async (move) => {
          const line: RestoreStatusLine = {
            bucket: group.bucket,
            key: group.prefix + move.from,
            newKey: group.prefix + move.to,
            storageClass: move.storageClass,
            state: "missing",
          };
          try {
            const head = await store.head(line.key);
            if (head) {
              line.storageClass = head.storageClass ?? line.storageClass;
              const restore = parseRestoreHeader(head.restore);
              line.state = restore.state;
              line.restoredUntil = restore.expiry?.toISOString();
            }
          } catch (error) {
            line.state = "error";
            line.message = s3ErrorText(error);
          }
          found.push(line);
        },
      });
      found.sort((a, b) => a.key.localeCompare(b.key));
      lines.push(...found);
    }
    for (const problem of search.problems) output.warn(problem);
    if (lines.length === 0) output.info("No deferred moves: nothing waits for a restore.");
    for (const line of lines) {
      const state = line.state === "restored"
        ? `restored until ${line.restoredUntil ?? "?"}`
        : line.state === "error"
        ? `error: ${line.message}`
        : line.state;
      output.info(
        `${state.padEnd(38)} s3://${line.bucket}/${line.key} (${
          line.storageClass ?? "?"
        }) → ${line.newKey}`,
      );
    }
    const count = (state: string) => lines.filter((line) => line.state === state).length;
    const totals = {
      notRequested: count("not requested"),
      inProgress: count("in progress"),
      restored: count("restored"),
      missing: count("missing"),
      errors: count("error"),
    };
    if (lines.length > 0) {
      output.info(
        `${lines.length} deferred: ${totals.notRequested} not requested, ${totals.inProgress} in progress, ` +
          `${totals.restored} restored` +
          (totals.missing ? `, ${totals.missing} missing from S3` : "") +
          (totals.errors ? `, ${totals.errors} could not be checked` : "") +
          (totals.notRequested ? '. Run "s3-smart-sync restore" to request the rest.' : "."),
      );
    }
    return {
      exitCode: totals.errors > 0 ? 1 : 0,
      json: { command: "restore-status", objects: lines, ...totals },
    };
  } finally {
    output.close();
  }
}

/** `restore-status`: where the restores that deferred moves wait for stand. */
export const restoreStatusCommand: CommandSpec<RestoreStatusOptions> = {
  name: "restore-status",
  synopsis: "[<local_dir> <s3://bucket[/prefix]>]",
  summary: "progress of those restores",
  description:
    `Show, for every object a deferred move waits for (those of every target ever synced, listed
in ~/.s3-smart-sync/targets.json, or one target's), whether its restore is not requested, in
progress, or done (restored until DATE), with totals. Sends one HeadObject per object; changes
nothing. A target whose directory is not there (an unmounted volume) is named and skipped.
Without --endpoint-url, each move's own endpoint is used.`,
  options: [...STATE_OPTIONS, ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS],
  examples: ["s3-smart-sync restore-status", "s3-smart-sync restore-status --json"],
  exitCodes: [
    "0  every object was checked",
    "1  some could not be checked (S3 answered with an error)",
    "2  usage error",
  ],
  parse: parseRestoreStatus,
  run: runRestoreStatus,
};
