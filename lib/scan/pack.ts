/**
 * A compact form of a {@linkcode ScanResult} for passing between threads.
 *
 * @module
 */
import type { ScanResult } from "./scan.ts";
import { type LocalFile, type SkippedEntry } from "../model.ts";

const FIELDS = 5;

/** A scan result as one string and one typed array. */
export interface PackedScan {
  /** File paths joined by NUL, which no POSIX file name contains. */
  paths: string;
  /** dev, ino, size, mtimeMs, btimeMs (NaN: none) of each file in turn. */
  numbers: Float64Array;
  /** Skipped entries, as they are. */
  skipped: SkippedEntry[];
  /** Device of the root. */
  rootDev: number;
  /** Directories read. */
  directories: number;
}

/** Packs a scan result. */
export function packScan(result: ScanResult): PackedScan {
  const numbers = new Float64Array(result.files.length * FIELDS);
  const paths: string[] = new Array(result.files.length);
  result.files.forEach((file, index) => {
    paths[index] = file.path;
    numbers[index * FIELDS] = file.dev;
    numbers[index * FIELDS + 1] = file.ino;
    numbers[index * FIELDS + 2] = file.size;
    numbers[index * FIELDS + 3] = file.mtimeMs;
    numbers[index * FIELDS + 4] = file.btimeMs ?? NaN;
  });
  return {
    paths: paths.join("\u0000"),
    numbers,
    skipped: result.skipped,
    rootDev: result.rootDev,
    directories: result.directories,
  };
}

/** Unpacks what {@linkcode packScan} made. */
export function unpackScan(packed: PackedScan): ScanResult {
  const count = packed.numbers.length / FIELDS;
  const paths = count === 0 ? [] : packed.paths.split("\u0000");
  const files: LocalFile[] = new Array(count);
  const numbers = packed.numbers;
  for (let index = 0; index < count; index++) {
    const btimeMs = numbers[index * FIELDS + 4]!;
    files[index] = {
      path: paths[index]!,
      dev: numbers[index * FIELDS]!,
      ino: numbers[index * FIELDS + 1]!,
      size: numbers[index * FIELDS + 2]!,
      mtimeMs: numbers[index * FIELDS + 3]!,
      btimeMs: Number.isNaN(btimeMs) ? undefined : btimeMs,
    };
  }
  return {
    files,
    skipped: packed.skipped,
    rootDev: packed.rootDev,
    directories: packed.directories,
  };
}
