/**
 * A sliding-window counter: at most `limit` hits per key within `windowMs`.
 * In memory, per process; each replica limits on its own.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #hits = new Map<string, number[]>();

  constructor(opts: { limit: number; windowMs: number; now?: () => number }) {
    this.#limit = opts.limit;
    this.#windowMs = opts.windowMs;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Records a hit. Returns 0 when allowed, else the whole seconds until the
   * oldest hit in the window expires (for Retry-After).
   */
  hit(key: string): number {
    const now = this.#now();
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length >= this.#limit) {
      this.#hits.set(key, recent);
      const oldest = recent[0] as number;
      return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
    }
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size > 10_000) this.#sweep(now);
    return 0;
  }

  /** Drops keys with no hit in the window, so memory stays bounded. */
  #sweep(now: number): void {
    for (const [k, times] of this.#hits) {
      if (times.every((t) => now - t >= this.#windowMs)) this.#hits.delete(k);
    }
  }
}
