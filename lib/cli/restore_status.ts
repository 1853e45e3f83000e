/**
 * `restore-status [<local_dir> <s3://bucket[/prefix]>]`: where the restores of the
 * archived objects that deferred moves wait for stand.
 *
 * @module
 */
import { parseRestore as parseRestoreHeader } from "../s3/archive.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { defaultLogDir, RunLog } from "../report/log.ts";
import { runPool } from "../pool.ts";
import { groupsFor } from "./restore.ts";
import { type CommandResult, defaultDeps, type TargetCommandDeps } from "./target.ts";
import { BASE_OPTIONS, parseCommandArgs } from "./options.ts";
import { withoutSlash } from "../fs.ts";

/** Help text of `restore-status`. */
export const RESTORE_STATUS_HELP =
  `Usage: s3-smart-sync restore-status [<local_dir> <s3://bucket[/prefix]>] [options]

Show, for every object a deferred move waits for (those of every target ever synced, listed
in ~/.s3-smart-sync/targets.json, or one target's), whether its restore is not requested, in
progress, or done (restored until DATE), with totals. Sends one HeadObject per object; changes
nothing. A target whose directory is not there (an unmounted volume) is named and skipped.

  --endpoint-url URL, --profile NAME, --region REGION
                            how to reach S3 (default: the endpoint the move was deferred with)
  --json                    one JSON object with each key's state and the totals
  -q, --quiet / -v, --verbose
  --log-dir DIR             folder for run logs (default ~/.s3-smart-sync/logs)
  -h, --help                this help

Exit codes: 0 every object was checked; 1 some could not be checked (S3 answered with an
error); 2 usage error.`;

const OPTIONS = {
  ...BASE_OPTIONS,
} as const;

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

/**
 * Runs `restore-status` from argv.
 *
 * @example
 * ```ts
 * await restoreStatus(["--json"]);
 * ```
 */
export async function restoreStatus(
  argv: string[],
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const { values, positionals } = parseCommandArgs("restore-status", { argv, options: OPTIONS });
  if (values.help) {
    console.log(RESTORE_STATUS_HELP);
    return { exitCode: 0 };
  }
  if (positionals.length !== 0 && positionals.length !== 2) {
    throw new UsageError(
      `"restore-status" takes no arguments, or <local_dir> and <s3://bucket[/prefix]>, but got ${positionals.length}.`,
    );
  }
  const connection = {
    endpoint: values["endpoint-url"],
    profile: values.profile,
    region: values.region,
  };
  const logDir = values["log-dir"] ?? defaultLogDir();
  const search = groupsFor({
    target: positionals.length === 2
      ? { localDir: withoutSlash(positionals[0]!), url: positionals[1]! }
      : undefined,
    connection,
    logDir,
    registry: deps.registry,
  });
  const groups = search.groups.filter((group) => group.moves.length > 0);
  const output = RunLog.open({ dir: logDir, command: "restore-status" }, {
    json: values.json,
    quiet: values.quiet,
    verbose: values.verbose,
  });
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
            line.message = errorMessage(error);
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
