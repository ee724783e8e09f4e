/**
 * Which Events were recorded lately. A failing reconcile is retried with backoff, and each retry
 * would record the same Warning again; an Event is recorded once per window instead. Bounded:
 * past `maxKeys` the oldest key is forgotten first.
 */
export class EventDeduplicator {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly recordedAt = new Map<string, number>();

  constructor({ windowMs = 10 * 60_000, maxKeys = 10_000 }: { windowMs?: number; maxKeys?: number } = {}) {
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
  }

  /** True when `key` was not recorded within the window; it then counts as recorded at `nowMs`. */
  isNew(key: string, nowMs: number): boolean {
    const last = this.recordedAt.get(key);
    if (last !== undefined && nowMs - last < this.windowMs) return false;
    // Delete first, so a re-recorded key moves to the young end of the insertion order.
    this.recordedAt.delete(key);
    this.recordedAt.set(key, nowMs);
    if (this.recordedAt.size > this.maxKeys) {
      const oldest = this.recordedAt.keys().next().value;
      if (oldest !== undefined) this.recordedAt.delete(oldest);
    }
    return true;
  }
}
