/**
 * The user's home folder, where the config file, the logs and the target registry live.
 *
 * @module
 */

/**
 * The home folder: `$HOME` (or `%USERPROFILE%`), else the current folder.
 *
 * @example
 * ```ts
 * const config = `${homeDir()}/.s3-smart-sync.conf`;
 * ```
 */
export function homeDir(): string {
  return Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
}
