/**
 * The one backoff of the operator: the informers' reconnects, the work queue's per-key retries
 * and retry-on-conflict all wait by it, so an API server in trouble sees the same growing,
 * jittered pauses from every part instead of three formulas.
 *
 * A delay doubles from `baseMs` with each failure up to `capMs`, then spreads by `jitter` so
 * clients that failed together do not come back together. The count resets only once successes
 * have lasted `resetAfterMs`: a watch that opens and fails a moment later keeps growing its
 * backoff instead of starting again from the base (client-go's reset-after-quiet rule).
 */

export interface BackoffPolicy {
  /** The first delay. */
  baseMs: number;
  /** The largest delay, before jitter. */
  capMs: number;
  /** Spread as a fraction of the delay: 0.2 waits anywhere from 0.8 to 1.2 times it. */
  jitter: number;
  /** How long successes must last before the failures are forgotten; 0: at the first success. */
  resetAfterMs: number;
}

/** The delay before retry number `failures` (1 for the first), `random` in [0, 1). Pure. */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: number): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(step * (1 - policy.jitter + 2 * policy.jitter * random));
}

export interface BackoffClock {
  now(): number;
  random(): number;
}

const SYSTEM_CLOCK: BackoffClock = { now: () => Date.now(), random: () => Math.random() };

/** The backoff of one thing that fails and recovers (a watch, a queue key, a write). */
export class Backoff {
  private readonly policy: BackoffPolicy;
  private readonly clock: BackoffClock;
  private count = 0;
  /** When the current run of successes began; undefined while failing. */
  private healthySince: number | undefined;

  constructor(policy: BackoffPolicy, clock: Partial<BackoffClock> = {}) {
    this.policy = policy;
    this.clock = { ...SYSTEM_CLOCK, ...clock };
  }

  /** Failures counted since the last reset. */
  get failures(): number {
    return this.count;
  }

  /**
   * Counts one failure and returns how long to wait before the next attempt; never less than
   * `atLeastMs` (a server's Retry-After).
   */
  failed(atLeastMs = 0): number {
    const since = this.healthySince;
    if (since !== undefined && this.clock.now() - since >= this.policy.resetAfterMs) this.count = 0;
    this.healthySince = undefined;
    this.count += 1;
    return Math.max(atLeastMs, backoffDelay(this.policy, this.count, this.clock.random()));
  }

  /** Notes a success; the failures are forgotten once successes have lasted resetAfterMs. */
  succeeded(): void {
    if (this.policy.resetAfterMs === 0) this.count = 0;
    this.healthySince ??= this.clock.now();
  }
}

/** Waits `ms`, or less when the signal aborts (the caller then checks signal.aborted). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
