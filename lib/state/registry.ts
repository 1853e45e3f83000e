/**
 * The registry of synced targets: a small JSON file in the user's `~/.s3-smart-sync/`
 * that lists every local directory and S3 target a run has synced, with where its state
 * DB is. `restore` and `restore-status` read it to find every deferred move without
 * being told where to look; the state DBs stay the truth.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { homeDir } from "../fs.ts";

/** One synced target: a local directory, its state DB, and where it is mirrored. */
export interface RegisteredTarget {
  /** The synced local directory. */
  localDir: string;
  /** Path of its state DB. */
  stateDb: string;
  /** Endpoint URL, or "" for AWS. */
  endpoint: string;
  /** Bucket. */
  bucket: string;
  /** Prefix ("" or ending in "/"). */
  prefix: string;
}

/** Records and lists synced targets. */
export interface TargetRegistry {
  /** Adds a target unless it is listed already. */
  register(target: RegisteredTarget): void;
  /** Every registered target, in the order they were first registered. */
  targets(): RegisteredTarget[];
}

/**
 * Lists a target in the registry, if there is one; returns why it could not (the run
 * goes on: only `restore` without arguments would miss the target).
 *
 * @example
 * ```ts
 * registerTarget(undefined, { localDir: "/v", stateDb: "/v/.s3-smart-sync.db", endpoint: "", bucket: "b", prefix: "" });
 * ```
 */
export function registerTarget(
  registry: TargetRegistry | undefined,
  target: RegisteredTarget,
): string | undefined {
  try {
    registry?.register(target);
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

/** `~/.s3-smart-sync/targets.json`. */
export function defaultRegistryPath(): string {
  return `${homeDir()}/.s3-smart-sync/targets.json`;
}

interface RegistryFile {
  version: 1;
  targets: RegisteredTarget[];
}

function sameTarget(a: RegisteredTarget, b: RegisteredTarget): boolean {
  return a.stateDb === b.stateDb && a.endpoint === b.endpoint && a.bucket === b.bucket &&
    a.prefix === b.prefix;
}

function isTarget(value: unknown): value is RegisteredTarget {
  const target = value as Record<string, unknown>;
  return typeof target === "object" && target !== null &&
    ["localDir", "stateDb", "endpoint", "bucket", "prefix"].every((field) =>
      typeof target[field] === "string"
    );
}

/**
 * The registry kept in a JSON file (default `~/.s3-smart-sync/targets.json`, owner-only).
 * Writers take an exclusive lock on a file beside it and replace the file atomically, so
 * that two runs started by cron at once both get listed.
 *
 * @example
 * ```ts
 * const registry = new FileRegistry();
 * registry.register({ localDir: "/volume1/photos", stateDb: "/volume1/photos/.s3-smart-sync.db",
 *   endpoint: "", bucket: "backup", prefix: "photos/" });
 * console.log(registry.targets().length);
 * ```
 */
export class FileRegistry implements TargetRegistry {
  constructor(readonly path: string = defaultRegistryPath()) {}

  targets(): RegisteredTarget[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    let parsed: Partial<RegistryFile>;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(
        `The target registry "${this.path}" is not valid JSON. Fix it or remove it; the next sync of each target lists it again.`,
      );
    }
    return Array.isArray(parsed.targets) ? parsed.targets.filter(isTarget) : [];
  }

  /**
   * Adds `target` unless it is listed; writes nothing when it is.
   *
   * @throws {Error} when the registry's folder cannot be created or written.
   */
  register(target: RegisteredTarget): void {
    if (this.targets().some((known) => sameTarget(known, target))) return;
    const dir = this.path.slice(0, this.path.lastIndexOf("/")) || ".";
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lock = Deno.openSync(`${this.path}.lock`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      lock.lockSync(true);
      // Read again under the lock: another run may have added targets meanwhile.
      const targets = this.targets();
      if (targets.some((known) => sameTarget(known, target))) return;
      const { localDir, stateDb, endpoint, bucket, prefix } = target;
      targets.push({ localDir, stateDb, endpoint, bucket, prefix });
      const file: RegistryFile = { version: 1, targets };
      const temporary = `${this.path}.${Deno.pid}.tmp`;
      Deno.writeTextFileSync(temporary, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
      Deno.renameSync(temporary, this.path);
    } finally {
      lock.close();
    }
  }
}
