/**
 * The few libc calls the walk makes through Deno's FFI on Linux (statx, open, close,
 * getdents64), loaded once, and the errors they report turned into Deno's error classes.
 *
 * @module
 */

const SYMBOLS = {
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // glibc 2.30 and later; older ones read directories through Deno.
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize", optional: true },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** The libc functions, as Deno's FFI calls them. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const ENOENT = 2;
const ENOTDIR = 20;
const EPERM = 1;
const EACCES = 13;

/** errno of a file that is gone (or a path through something that is not a folder). */
export function isGone(errno: number): boolean {
  return errno === ENOENT || errno === ENOTDIR;
}

let loaded: Libc | null | undefined;

/**
 * Loads libc once and returns its functions, or undefined where they cannot be used: not
 * Linux, a big-endian machine (the structures are read little-endian: x86_64, aarch64,
 * riscv64), no FFI permission (asked without prompting) or no libc.so.6.
 *
 * @returns the functions, or undefined.
 *
 * @example
 * ```ts
 * const libc = loadLibc();
 * console.log(libc ? "FFI" : "Deno's own calls");
 * ```
 */
export function loadLibc(): Libc | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  if (Deno.build.os !== "linux") return undefined;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  try {
    loaded = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    return undefined;
  }
  return loaded;
}

/** The errno of the last failed call on this thread. */
export function errnoOf(libc: Libc): number {
  const pointer = libc.__errno_location();
  return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
}

/**
 * The error a failed call on `path` reports, as Deno would throw it:
 * `Deno.errors.NotFound` (ENOENT), `NotADirectory` (ENOTDIR, only where `action` reads a
 * folder; elsewhere NotFound), `PermissionDenied` (EACCES, EPERM), otherwise an `Error`
 * naming the errno.
 *
 * @param libc the functions.
 * @param errno the error number.
 * @param action what failed, as "Cannot {action} …": "read the attributes of", "read the folder".
 * @param path the path it failed on.
 * @returns the error.
 */
export function errorOf(libc: Libc, errno: number, action: string, path: string): Error {
  const textPointer = libc.strerror(errno);
  const text = textPointer === null
    ? "unknown error"
    : Deno.UnsafePointerView.getCString(textPointer);
  const message = action === READ_FOLDER
    // As Deno words it, so that the walk's "cannot read directory: …" reads well.
    ? `${text} (os error ${errno}): reading folder "${path}"`
    : `Cannot ${action} "${path}": ${text} (os error ${errno}).`;
  if (errno === ENOTDIR && action === READ_FOLDER) return new Deno.errors.NotADirectory(message);
  if (isGone(errno)) return new Deno.errors.NotFound(message);
  if (errno === EACCES || errno === EPERM) return new Deno.errors.PermissionDenied(message);
  return new Error(message);
}

/** The `action` of {@linkcode errorOf} for reading a folder. */
export const READ_FOLDER = "read the folder";

/** The `action` of {@linkcode errorOf} for statx. */
export const READ_ATTRIBUTES = "read the attributes of";
