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
import { RunLog } from "../report/log.ts";
import type { ObjectStore, RestoreOutcome } from "../s3/store.ts";
import { isNotImplemented } from "../s3/errors.ts";
import { effectiveEndpoint } from "../s3/client.ts";
import { statePathOf, StateStore } from "../state/store.ts";
import { parseS3Url } from "../s3/location.ts";
import { type CliDeps, type CommandResult, type CommandSpec, defaultCliDeps } from "./command.ts";
import {
  CONNECTION_OPTIONS,
  flagOption,
  OUTPUT_OPTIONS,
  type OutputSettings,
  parseCount,
  type ParsedArgs,
  parseOutputOptions,
  STATE_OPTIONS,
  stateDirOption,
  stringOption,
} from "./options.ts";

/** Options of `restore`, parsed. */
export interface RestoreOptions extends OutputSettings {
  target?: { localDir: string; url: string; stateDir?: string };
  days: number;
  tier: RestoreTier;
  dryRun: boolean;
  connection: { endpoint?: string; profile?: string; region?: string };
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
 * Turns the parsed arguments of `restore` into its options.
 *
 * @throws {UsageError} on bad arguments.
 */
export function parseRestore(args: ParsedArgs): RestoreOptions {
  const { values, positionals } = args;
  return {
    target: targetArgument("restore", positionals, stateDirOption(values)),
    days: parseCount(stringOption(values, "days"), { name: "days", min: 1, max: 30_000 }) ?? 7,
    tier: parseTier(stringOption(values, "tier")),
    dryRun: flagOption(values, "dry-run"),
    connection: endpointOptions(values),
    ...parseOutputOptions(values),
  };
}

/** The connection options of `restore` and `restore-status`. */
export function endpointOptions(
  values: ParsedArgs["values"],
): { endpoint?: string; profile?: string; region?: string } {
  return {
    endpoint: stringOption(values, "endpoint-url"),
    profile: stringOption(values, "profile"),
    region: stringOption(values, "region"),
  };
}

/**
 * The optional `<local_dir> <s3://bucket[/prefix]>` of `restore` and `restore-status`.
 *
 * @throws {UsageError} on another number of arguments.
 */
export function targetArgument(
  command: string,
  positionals: readonly string[],
  stateDir?: string,
): { localDir: string; url: string; stateDir?: string } | undefined {
  if (positionals.length === 0) {
    if (stateDir !== undefined) {
      throw new UsageError(
        `"${command} --state-dir" needs <local_dir> and <s3://bucket[/prefix]> too: the state DB of one target is in that folder.`,
      );
    }
    return undefined;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `"${command}" takes no arguments, or <local_dir> and <s3://bucket[/prefix]>, but got ${positionals.length}.`,
    );
  }
  return { localDir: withoutSlash(positionals[0]!), url: positionals[1]!, stateDir };
}

/**
 * The deferred moves a `restore` or `restore-status` run covers: one target's, or those
 * of every target in the registry (and in the archive log, for targets synced before it).
 */
export function groupsFor(options: {
  target?: { localDir: string; url: string; stateDir?: string };
  connection: { endpoint?: string };
  logDir: string;
  registry: TargetRegistry;
}): DeferredSearch {
  if (options.target) {
    const { localDir } = options.target;
    const group = deferredOfTarget({
      localDir,
      stateDb: statePathOf(options.target.stateDir ?? localDir),
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
  deps: CliDeps = defaultCliDeps,
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
  const output = RunLog.open(
    { dir: options.logDir, command: "restore", retentionDays: options.logRetentionDays },
    options,
  );
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
      let servedAsIs = false;
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
          const served = await servedWithoutRestore(store, key, error);
          if (served) {
            // Ceph RGW: classes are labels, RestoreObject is not implemented.
            servedAsIs = true;
            results.push({ bucket: group.bucket, key, outcome: "not archived" });
            output.info(`${"served as is".padEnd(16)} ${url}`);
            continue;
          }
          const message = isNotImplemented(error)
            ? "this server cannot restore archived objects (RestoreObject: NotImplemented) and does not serve this one; restore it with the provider's own tools"
            : errorMessage(error);
          results.push({ bucket: group.bucket, key, outcome: "failed", message });
          output.error(`Cannot restore ${url}: ${message}`);
        }
      }
      markRequested(group, requested);
      if (servedAsIs) {
        markServedAsIs(group);
        output.info(
          `The server at ${group.endpoint} cannot restore objects but serves archived ones as they are: the next sync of ${group.localDir} copies them, keeping their storage class.`,
        );
      }
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

/**
 * True when RestoreObject failed because the server cannot restore (501) and it serves
 * the object anyway: its archive class is only a label.
 */
async function servedWithoutRestore(
  store: ObjectStore,
  key: string,
  error: unknown,
): Promise<boolean> {
  if (!isNotImplemented(error)) return false;
  try {
    return await store.readable(key);
  } catch {
    return false;
  }
}

function markRequested(group: DeferredGroup, from: string[]): void {
  if (from.length === 0) return;
  withTargetState(
    group,
    (state, id) => state.markRestoreRequested(id, { from, nowMs: Date.now() }),
  );
}

/** Notes in the target's state that its server serves archived objects as they are. */
function markServedAsIs(group: DeferredGroup): void {
  withTargetState(group, (state, id) => state.setArchiveReads(id, true));
}

function withTargetState(
  group: DeferredGroup,
  update: (state: StateStore, targetId: number) => void,
): void {
  if (!exists(group.stateDb)) return;
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
    if (id !== undefined) update(state, id);
  } finally {
    state.close();
  }
}

/** `restore`: start the restores that deferred moves wait for. */
export const restoreCommand: CommandSpec<RestoreOptions> = {
  name: "restore",
  synopsis: "[<local_dir> <s3://bucket[/prefix]>]",
  summary: "start restores for objects that deferred moves need",
  description:
    `Start restores of the archived objects (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive
tiers) that deferred moves wait for: those of every target ever synced (listed in
~/.s3-smart-sync/targets.json; each target's state DB says what waits), or only those of one
target when local_dir and the S3 URL are given. Once S3 has restored an object, the next sync,
moves or batch completes its move (the object keeps its storage class). Without
--endpoint-url, each move's own endpoint is used.`,
  options: ["days", "tier", "dry-run", ...STATE_OPTIONS, ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS],
  examples: [
    "s3-smart-sync restore --tier Bulk --days 3",
    "s3-smart-sync restore /volume1/photos s3://my-backup/photos --dry-run",
  ],
  exitCodes: [
    "0  every restore started (or was already under way or done, or the server serves the object without one)",
    "1  a request failed",
    "2  usage error, e.g. --tier Expedited for a DEEP_ARCHIVE object (nothing was sent)",
  ],
  parse: parseRestore,
  run: runRestore,
};
