/**
 * Archived objects: which storage classes need a restore before S3 copies them, which
 * errors say so, how to read S3's restore status, and which retrieval tiers fit.
 *
 * @module
 */

/** Storage classes whose objects S3 copies only after a restore. */
export const ARCHIVE_CLASSES: ReadonlySet<string> = new Set(["GLACIER", "DEEP_ARCHIVE"]);

/** What S3's `x-amz-restore` header (HeadObject's `Restore`) says. */
export interface RestoreState {
  /** not requested, in progress, or restored (until `expiry`). */
  state: "not requested" | "in progress" | "restored";
  /** When the restored copy expires. */
  expiry?: Date;
}

/**
 * Reads HeadObject's `Restore` value: absent → not requested;
 * `ongoing-request="true"` → in progress; `ongoing-request="false", expiry-date="…"` →
 * restored until that date.
 *
 * @example
 * ```ts
 * parseRestore('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"');
 * // { state: "restored", expiry: new Date("2012-12-21T00:00:00Z") }
 * ```
 */
export function parseRestore(header: string | undefined): RestoreState {
  if (!header) return { state: "not requested" };
  if (/ongoing-request\s*=\s*"true"/i.test(header)) return { state: "in progress" };
  const expiry = /expiry-date\s*=\s*"([^"]+)"/i.exec(header)?.[1];
  const date = expiry ? new Date(expiry) : undefined;
  return { state: "restored", expiry: date && !Number.isNaN(date.getTime()) ? date : undefined };
}

/** Retrieval tiers of RestoreObject. */
export const RESTORE_TIERS = ["Standard", "Bulk", "Expedited"] as const;

/** One of {@linkcode RESTORE_TIERS}. */
export type RestoreTier = typeof RESTORE_TIERS[number];

/**
 * Explains why a tier cannot restore an object of a storage class, or returns
 * undefined when it can.
 */
export function tierProblem(
  storageClass: string | undefined,
  tier: RestoreTier,
): string | undefined {
  if (tier !== "Expedited") return undefined;
  if (storageClass === "DEEP_ARCHIVE") {
    return "Expedited retrieval is not available for DEEP_ARCHIVE; use --tier Standard (within 12 hours) or --tier Bulk (within 48 hours)";
  }
  if (storageClass === "INTELLIGENT_TIERING") {
    return "Expedited retrieval is not available for Intelligent-Tiering archive tiers; use --tier Standard or --tier Bulk";
  }
  return undefined;
}
