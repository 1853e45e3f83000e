/**
 * `restore [<local_dir> <s3://bucket[/prefix]>] [--days N] [--tier T] [--dry-run]`:
 * asks S3 to restore the archived objects that deferred moves wait for.
 *
 * @module
 */
import { RESTORE_TIERS, type RestoreTier, tierProblem } from "../s3/archive.ts";
import { archiveLogPath } from "../state/archive_log.ts";
import {
  deferredEverywhere,
  type DeferredGroup,
  deferredOfTarget,
  type DeferredSearch,
} from "../state/deferred_targets.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { exists, withoutSlash } from "../fs.ts";
import type { TargetRegistry } from "../state/registry.ts";
import { defaultLogDir, RunLog } from "../report/log.ts";
import type { RestoreOutcome } from "../s3/store.ts";
import { effectiveEndpoint } from "../s3/aws_store.ts";
import { statePathOf, StateStore } from "../state/store.ts";
import { parseS3Url } from "../s3/location.ts";
import { type CommandResult, defaultDeps, type TargetCommandDeps } from "./target.ts";
import { BASE_OPTIONS, parseCommandArgs, parseCount } from "./options.ts";

/** Help text of `restore`. */
export const RESTORE_HELP =
  `Usage: s3-smart-sync restore [<local_dir> <s3://bucket[/prefix]>] [options]

Start restores of the archived objects (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive
tiers) that deferred moves wait for: those of every target ever synced (listed in
~/.s3-smart-sync/targets.json; each target's state DB says what waits), or only those of one
target when local_dir and the S3 URL are given. Once S3 has restored an object, the next sync,
moves or batch completes its move (the object keeps its storage class).

  --days N                  days the restored copy stays available (default 7; not sent for
                            Intelligent-Tiering objects, which take no Days)
  --tier TIER               Standard (default: GLACIER 3-5 h, DEEP_ARCHIVE within 12 h),
                            Bulk (cheapest: 5-12 h / within 48 h) or Expedited (GLACIER only,
                            1-5 minutes)
  --dry-run                 list what would be restored; send nothing
  --endpoint-url URL, --profile NAME, --region REGION
                            how to reach S3 (default: the endpoint the move was deferred with)
  --json                    one JSON object with each key's outcome and the totals
  -q, --quiet / -v, --verbose
  --log-dir DIR             folder for run logs (default ~/.s3-smart-sync/logs)

Exit codes: 0 every restore started (or was already under way or done); 1 a request failed;
2 usage error, e.g. --tier Expedited for a DEEP_ARCHIVE object (nothing was sent).`;

const OPTIONS = {
  days: { type: "string" },
  tier: { type: "string" },
  "dry-run": { type: "boolean" },
  ...BASE_OPTIONS,
} as const;

/** Options of `restore`, parsed. */
export interface RestoreOptions {
  target?: { localDir: string; url: string };
  days: number;
  tier: RestoreTier;
  dryRun: boolean;
  connection: { endpoint?: string; profile?: string; region?: string };
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  logDir: string;
}

/** Parses the tier name, case-insensitively. */
export function parseTier(value: string | undefined): RestoreTier {
  if (value === undefined) return "Standard";
  const tier = RESTORE_TIERS.find((name) => name.toLowerCase() === value.toLowerCase());
  if (!tier) {
    throw new UsageError(`Unknown tier "${value}". Use one of ${RESTORE_TIERS.join(", ")}.`);
  }
  return tier;
}

/**
 * Parses `restore`'s argv; "help" for --help.
 *
 * @throws {UsageError} on bad arguments.
 */
export function parseRestore(argv: string[]): RestoreOptions | "help" {
  const { values, positionals } = parseCommandArgs("restore", { argv, options: OPTIONS });
  if (values.help) return "help";
  if (positionals.length !== 0 && positionals.length !== 2) {
    throw new UsageError(
      `"restore" takes no arguments, or <local_dir> and <s3://bucket[/prefix]>, but got ${positionals.length}.`,
    );
  }
  return {
    target: positionals.length === 2
      ? { localDir: withoutSlash(positionals[0]!), url: positionals[1]! }
      : undefined,
    days: parseCount(values.days, { name: "days", min: 1, max: 30_000 }) ?? 7,
    tier: parseTier(values.tier),
    dryRun: values["dry-run"] ?? false,
    connection: {
      endpoint: values["endpoint-url"],
      profile: values.profile,
      region: values.region,
    },
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    verbose: values.verbose ?? false,
    logDir: values["log-dir"] ?? defaultLogDir(),
  };
}

/**
 * The deferred moves a `restore` or `restore-status` run covers: one target's, or those
 * of every target in the registry (and in the archive log, for targets synced before it).
 */
export function groupsFor(options: {
  target?: { localDir: string; url: string };
  connection: { endpoint?: string };
  logDir: string;
  registry: TargetRegistry;
}): DeferredSearch {
  if (options.target) {
    const { localDir } = options.target;
    const group = deferredOfTarget({
      localDir,
      stateDb: statePathOf(localDir),
      endpoint: effectiveEndpoint(options.connection) ?? "",
      ...parseS3Url(options.target.url),
    });
    return { groups: [group], problems: [] };
  }
  return deferredEverywhere({
    registry: options.registry,
    archiveLog: archiveLogPath(options.logDir),
  });
}

/** Runs `restore` with parsed options. */
export async function runRestore(
  options: RestoreOptions,
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const search = groupsFor({ ...options, registry: deps.registry });
  const groups = search.groups.filter((group) => group.moves.length > 0);
  const problems = groups.flatMap((group) =>
    group.moves.flatMap((move) => {
      const problem = tierProblem(move.storageClass, options.tier);
      return problem ? [`${move.from}: ${problem}`] : [];
    })
  );
  if (problems.length > 0) {
    throw new UsageError(
      `Cannot restore ${problems.length} object(s) with --tier ${options.tier}: ${
        problems[0]
      }. Nothing was sent.`,
    );
  }
  const output = RunLog.open({ dir: options.logDir, command: "restore" }, options);
  const results: Array<
    { bucket: string; key: string; outcome: RestoreOutcome | "failed"; message?: string }
  > = [];
  try {
    for (const problem of search.problems) output.warn(problem);
    if (groups.length === 0) output.info("No deferred moves: nothing to restore.");
    for (const group of groups) {
      const connection = {
        ...options.connection,
        endpoint: options.connection.endpoint ?? (group.endpoint || undefined),
      };
      const store = await deps.openStore(connection, group.bucket);
      const requested: string[] = [];
      for (const move of group.moves) {
        const key = group.prefix + move.from;
        const url = `s3://${group.bucket}/${key}`;
        if (options.dryRun) {
          output.info(`would restore ${url} (${move.storageClass ?? "?"}, tier ${options.tier})`);
          continue;
        }
        try {
          const outcome = await store.restore(key, {
            tier: options.tier,
            days: move.storageClass === "INTELLIGENT_TIERING" ? undefined : options.days,
          });
          results.push({ bucket: group.bucket, key, outcome });
          output.info(`${outcome.padEnd(16)} ${url}`);
          if (outcome !== "not archived") requested.push(move.from);
        } catch (error) {
          results.push({
            bucket: group.bucket,
            key,
            outcome: "failed",
            message: errorMessage(error),
          });
          output.error(`Cannot restore ${url}: ${errorMessage(error)}`);
        }
      }
      markRequested(group, requested);
    }
    const count = (outcome: string) =>
      results.filter((result) => result.outcome === outcome).length;
    const totals = {
      started: count("started"),
      alreadyRestored: count("already restored"),
      inProgress: count("in progress"),
      notArchived: count("not archived"),
      failed: count("failed"),
    };
    const total = groups.reduce((sum, group) => sum + group.moves.length, 0);
    output.info(
      options.dryRun
        ? `Would restore ${total} object(s) with tier ${options.tier}.`
        : `Restores: ${totals.started} started, ${totals.inProgress} already in progress, ` +
          `${totals.alreadyRestored} already restored, ${totals.notArchived} not archived, ` +
          `${totals.failed} failed. The next sync completes the moves whose object is restored.`,
    );
    return {
      exitCode: totals.failed > 0 ? 1 : 0,
      json: {
        command: "restore",
        dryRun: options.dryRun,
        tier: options.tier,
        days: options.days,
        objects: total,
        results,
        ...totals,
      },
    };
  } finally {
    output.close();
  }
}

function markRequested(group: DeferredGroup, from: string[]): void {
  if (from.length === 0 || !exists(group.stateDb)) return;
  let state: StateStore;
  try {
    state = StateStore.openFile(group.stateDb);
  } catch {
    return; // The directory is gone; the next run of that target checks anyway.
  }
  try {
    const id = state.target({
      endpoint: group.endpoint,
      bucket: group.bucket,
      prefix: group.prefix,
    });
    if (id !== undefined) state.markRestoreRequested(id, { from, nowMs: Date.now() });
  } finally {
    state.close();
  }
}

/**
 * Runs `restore` from argv.
 *
 * @example
 * ```ts
 * await restore(["--tier", "Bulk", "--days", "3"]);
 * ```
 */
export async function restore(
  argv: string[],
  deps: TargetCommandDeps = defaultDeps,
): Promise<CommandResult> {
  const options = parseRestore(argv);
  if (options === "help") {
    console.log(RESTORE_HELP);
    return { exitCode: 0 };
  }
  return await runRestore(options, deps);
}
