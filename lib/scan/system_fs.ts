/**
 * The real file system for the walk: folders read through getdents64 with each file's
 * statx taken relative to the folder, and an lstat with exact 64-bit inode numbers (statx
 * by path), all through FFI on Linux; `Deno.readDirSync` and `Deno.lstatSync` elsewhere.
 *
 * @module
 */
import { loadDirReader } from "./dirents.ts";
import type { FileStat, ScanDirEntry, ScanFs } from "./scan_fs.ts";
import { loadStatx } from "./statx.ts";

/** Which lstat {@linkcode systemFs} uses; chosen on its first call, then kept. */
let chosenLstat: ((path: string) => FileStat) | undefined;
/** Which folder reader {@linkcode systemFs} uses; chosen on its first call, then kept. */
let chosenReader: ((path: string) => Iterable<ScanDirEntry>) | undefined;

function lstatOfSystem(): (path: string) => FileStat {
  const statx = loadStatx();
  return statx === undefined ? denoLstat : (path) => statx.path(path);
}

function denoReadDir(path: string): Iterable<ScanDirEntry> {
  return Deno.readDirSync(path);
}

/**
 * The file system as the walk sees it. `lstat` uses statx(2) through FFI where it can
 * (Linux with libc.so.6, glibc ≥ 2.28, FFI permission), which gives exact 64-bit inode
 * numbers; elsewhere `Deno.lstatSync`, whose inode numbers are exact only below 2^53.
 * `dev`, `size`, `mtimeMs` and `btimeMs` are the same either way. `readDir` reads
 * folders through getdents64 (glibc ≥ 2.30, x86_64 or aarch64) and gives each file's
 * statx with it; elsewhere it is `Deno.readDirSync`. Each choice is made once, on the
 * first call.
 *
 * @example
 * ```ts
 * const info = systemFs.lstat("/etc/hostname");
 * console.log(info.ino, info.size, info.mtimeMs);
 * for (const entry of systemFs.readDir("/etc")) console.log(entry.name);
 * ```
 */
export const systemFs: ScanFs = {
  readDir: (path) => (chosenReader ??= loadDirReader() ?? denoReadDir)(path),
  lstat: (path) => (chosenLstat ??= lstatOfSystem())(path),
};

/**
 * Which lstat {@linkcode systemFs} uses here ("statx" or "Deno.lstatSync"), choosing it
 * if no call has yet.
 *
 * @example
 * ```ts
 * console.log(`inodes come from ${systemLstatKind()}`);
 * ```
 */
export function systemLstatKind(): "statx" | "Deno.lstatSync" {
  chosenLstat ??= lstatOfSystem();
  return chosenLstat === denoLstat ? "Deno.lstatSync" : "statx";
}

/**
 * `Deno.lstatSync` as a {@linkcode FileStat}; inode numbers above 2^53 come out rounded.
 *
 * @example
 * ```ts
 * console.log(denoLstat("/etc/hostname").ino);
 * ```
 */
export function denoLstat(path: string): FileStat {
  const info = Deno.lstatSync(path);
  return {
    isFile: info.isFile,
    isDirectory: info.isDirectory,
    isSymlink: info.isSymlink,
    dev: info.dev,
    ino: BigInt(info.ino ?? 0),
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    btimeMs: info.birthtime?.getTime(),
  };
}
