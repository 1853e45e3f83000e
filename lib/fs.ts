/**
 * Small file-system helpers shared by the stages: existence, the home folder, joining a
 * relative path to a root.
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

/**
 * `root` with one trailing "/", to which relative paths are appended: `base(root) + path`.
 *
 * @example
 * ```ts
 * withSlash("/volume1/photos") + "2024/a.jpg"; // "/volume1/photos/2024/a.jpg"
 * withSlash("/volume1/photos/"); // "/volume1/photos/"
 * ```
 */
export function withSlash(root: string): string {
  return root.endsWith("/") ? root : root + "/";
}

/**
 * `path` without trailing "/" (the root "/" stays as it is).
 *
 * @example
 * ```ts
 * withoutSlash("/volume1/photos/"); // "/volume1/photos"
 * withoutSlash("/"); // "/"
 * ```
 */
export function withoutSlash(path: string): string {
  return path.length > 1 ? path.replace(/(.)\/+$/, "$1") : path;
}
