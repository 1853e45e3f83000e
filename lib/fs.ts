/**
 * Small file-system checks shared by the stages.
 *
 * @module
 */

/**
 * True when something (file, folder, link) is at `path`; symbolic links are not followed.
 * Only a definite "not found" is false: a path that cannot be checked (permission denied)
 * counts as there, so that the caller's next step reports the real problem.
 *
 * @example
 * ```ts
 * if (!exists("/volume1/photos/.s3-smart-sync.db")) console.log("never synced");
 * ```
 */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}
