/**
 * Human-readable numbers for summaries.
 *
 * @module
 */

/**
 * Formats a byte count with binary units.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.50 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Formats a duration in milliseconds as seconds or minutes. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** Formats a count with thousands separators. */
export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}
