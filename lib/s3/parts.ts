/**
 * Part sizes of multipart uploads and copies: S3 takes at most 10,000 parts.
 *
 * @module
 */

const MiB = 1024 * 1024;

/** The most parts one multipart upload may have. */
export const MAX_PARTS = 10_000;

/**
 * Part size for a multipart upload or copy of `size` bytes: at least `minimum`, and large
 * enough (rounded up to whole MiB) that the object fits in 10,000 parts.
 *
 * @example
 * ```ts
 * partSizeFor(100 * 1024 ** 2, 16 * 1024 ** 2); // 16 MiB: the minimum is enough
 * partSizeFor(5 * 1024 ** 4, 16 * 1024 ** 2); // 525 MiB: 5 TiB in 10,000 parts
 * ```
 */
export function partSizeFor(size: number, minimum: number): number {
  const needed = Math.ceil(size / MAX_PARTS);
  return needed > minimum ? Math.ceil(needed / MiB) * MiB : minimum;
}
