/**
 * Formatting for bench reports: durations, sizes, request counts and plain-text tables.
 *
 * @module
 */

/** `1.234s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 3 : 1)}s`;
}

/** `57.4 MiB`. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `1.23 MB` (decimal, as link rates are quoted). */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/** `12.3×`, or `n/a` when the denominator is 0. */
export function ratio(numerator: number, denominator: number): string {
  return denominator > 0 ? `${(numerator / denominator).toFixed(2)}×` : "n/a";
}

/** Requests by operation, largest first: `ListObjectsV2 100, HeadBucket 1`; `none` if empty. */
export function requestsText(requests: Record<string, number>): string {
  const entries = Object.entries(requests).filter(([, count]) => count > 0);
  if (entries.length === 0) return "none";
  return entries.sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} ${count}`).join(", ");
}

/** Sum of all counts. */
export function totalRequests(requests: Record<string, number>): number {
  return Object.values(requests).reduce((sum, count) => sum + count, 0);
}

/**
 * A plain-text table: the first row is the header, columns padded to their widest cell;
 * columns listed in `right` are right-aligned.
 */
export function table(rows: string[][], right: number[] = []): string {
  const widths = rows[0]!.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length))
  );
  const line = (row: string[]) =>
    row.map((cell, column) =>
      right.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)
    ).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}
