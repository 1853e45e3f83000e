/**
 * The first check of every run: is the local directory there, a directory, and not
 * empty? An unmounted NAS share is usually an empty mount point, and a run against it
 * must change nothing, not even create its state DB there.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** What is wrong with a local directory, as a sentence for the user. */
export interface LocalDirProblem {
  /** `empty`: readable, with nothing in it at all. */
  kind: "missing" | "not a directory" | "unreadable" | "empty";
  /** A sentence naming the path and what to check. */
  message: string;
}

/**
 * Checks that `path` is a readable directory with something in it.
 *
 * @example
 * ```ts
 * localDirProblem("/volume1/photos"); // undefined when fine
 * // { kind: "empty", message: 'Local directory "/mnt/usb" is empty: is the volume mounted?' }
 * ```
 */
export function localDirProblem(path: string): LocalDirProblem | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        kind: "missing",
        message:
          `Local directory "${path}" does not exist. Check the path (is the volume mounted?).`,
      };
    }
    return {
      kind: "unreadable",
      message: `Cannot read local directory "${path}": ${(error as Error).message}`,
    };
  }
  if (!info.isDirectory) {
    return { kind: "not a directory", message: `"${path}" is not a directory.` };
  }
  try {
    for (const _ of Deno.readDirSync(path)) return undefined;
  } catch (error) {
    return {
      kind: "unreadable",
      message: `Cannot read local directory "${path}": ${(error as Error).message}`,
    };
  }
  return {
    kind: "empty",
    message: `Local directory "${path}" is empty: is the volume mounted?`,
  };
}

/**
 * Refuses a missing directory, a file, or an empty directory (most often an unmounted
 * volume) before anything is created in it — unless the run only reads, or the user
 * says the emptiness is real (`force`).
 *
 * @throws {UsageError} saying what is wrong and what to do.
 *
 * @example
 * ```ts
 * refuseUnusableDirectory("/volume1/photos", { readOnly: false, force: false, deletes: true });
 * ```
 */
export function refuseUnusableDirectory(
  path: string,
  options: { readOnly: boolean; force: boolean; deletes: boolean },
): void {
  const problem = localDirProblem(path);
  if (!problem || (problem.kind === "empty" && (options.readOnly || options.force))) return;
  throw new UsageError(
    problem.kind === "empty"
      ? `${problem.message} Nothing was changed. ${
        options.deletes
          ? "If it really is empty and its objects should be deleted, pass --force-delete."
          : "There is nothing to sync in it."
      }`
      : problem.kind === "not a directory"
      ? `${problem.message} Give the folder to sync, not a file in it.`
      : problem.message,
  );
}
