/**
 * The first check of every run: is the local directory there, a directory, and not
 * empty? An unmounted NAS share is usually an empty mount point, and a run against it
 * must change nothing, not even create its state DB there.
 *
 * @module
 */

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
