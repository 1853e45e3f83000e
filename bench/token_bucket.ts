/**
 * A token bucket that paces bytes through a shared link: every caller takes tokens from
 * the same bucket, so N parallel transfers share the rate as on a real uplink.
 *
 * @module
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Bytes per second through one link, shared by every caller of {@linkcode TokenBucket.take}.
 * The bucket holds at most `burstBytes` tokens (default 64 KiB); a caller that finds too
 * few waits until the tokens it needs have accrued, in order of arrival. A rate of 0 or
 * Infinity means no limit.
 *
 * @example
 * ```ts
 * const link = new TokenBucket(5_000_000);
 * await link.take(1_000_000); // ~0.2 s after a full bucket drained
 * ```
 */
export class TokenBucket {
  /** Tokens at time {@linkcode TokenBucket.#stamp}; negative when callers are queued. */
  #tokens: number;
  #stamp = performance.now();

  constructor(public bytesPerSecond: number, readonly burstBytes = 64 * 1024) {
    this.#tokens = burstBytes;
  }

  /** Whether the bucket limits anything. */
  get limited(): boolean {
    return this.bytesPerSecond > 0 && Number.isFinite(this.bytesPerSecond);
  }

  /**
   * Takes `bytes` tokens, waiting until they have accrued. Reservations are made at call
   * time, so concurrent callers are served in order and the total rate is the bucket's.
   */
  async take(bytes: number): Promise<void> {
    if (!this.limited) return;
    const now = performance.now();
    this.#tokens = Math.min(
      this.burstBytes,
      this.#tokens + ((now - this.#stamp) * this.bytesPerSecond) / 1000,
    );
    this.#stamp = now;
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return;
    const waitMs = (-this.#tokens * 1000) / this.bytesPerSecond;
    if (waitMs >= 1) await sleep(waitMs);
  }

  /** Changes the rate; tokens already accrued are kept. */
  setRate(bytesPerSecond: number): void {
    this.#tokens = this.burstBytes;
    this.#stamp = performance.now();
    this.bytesPerSecond = bytesPerSecond;
  }
}
