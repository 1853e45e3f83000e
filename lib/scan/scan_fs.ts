/**
 * What the walk needs from the file system, as an interface so that tests can fake it
 * (64-bit inodes, permission errors, names that vanish) and the real one can use faster
 * calls than Deno's own. The real one is `systemFs` in system_fs.ts.
 *
 * @module
 */

/** What `lstat` says about one entry (symbolic links are not followed). */
export interface FileStat {
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symbolic link. */
  isSymlink: boolean;
  /** Device number, as `Deno.lstatSync().dev` gives it. */
  dev: number;
  /** Inode number, exact (NFS and some FUSE file systems use all 64 bits). */
  ino: bigint;
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch, as `Deno.lstatSync().mtime.getTime()`. */
  mtimeMs: number;
  /** Birth time in ms, where the file system keeps one. */
  btimeMs?: number;
}

/** One entry of a directory, as `Deno.readDirSync` gives it, and what a faster reader adds. */
export interface ScanDirEntry {
  /** The entry's name (a name that is not UTF-8 is decoded lossily, with U+FFFD). */
  name: string;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symbolic link. */
  isSymlink: boolean;
  /** Its lstat, where the reader took it with the folder (the walk lstats the other files). */
  stat?: FileStat;
  /** Set where the reader knows the name's bytes are not UTF-8 (no S3 key can name it). */
  notUtf8?: boolean;
}

/**
 * The walk's access to the file system.
 *
 * @example
 * ```ts
 * const emptyFs: ScanFs = {
 *   readDir: () => [],
 *   lstat: () => ({
 *     isFile: false,
 *     isDirectory: true,
 *     isSymlink: false,
 *     dev: 1,
 *     ino: 2n,
 *     size: 0,
 *     mtimeMs: 0,
 *   }),
 * };
 * ```
 */
export interface ScanFs {
  /**
   * Entries of a directory (names as Deno gives them), like `Deno.readDirSync`, files
   * with their lstat where the reader can take it cheaply. Throws `Deno.errors.*` as
   * Deno does.
   */
  readDir(path: string): Iterable<ScanDirEntry>;
  /**
   * lstat (symbolic links are not followed, except that a path ending in "/" resolves a
   * link to a directory, as POSIX says). Throws `Deno.errors.NotFound` or
   * `Deno.errors.PermissionDenied` as Deno does.
   */
  lstat(path: string): FileStat;
}
