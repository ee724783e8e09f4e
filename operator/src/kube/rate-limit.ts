/**
 * The client-side rate limit of every API request, watches included (client-go's token bucket):
 * up to `burst` requests at once, then `qps` a second. Whatever loops inside the operator, the API
 * server never sees more than burst + qps × t requests in t seconds from one client; APF on the
 * server is the second line, not the only one.
 */
import { sleep } from './backoff.ts';

export interface RateLimit {
  /** Sustained requests per second. */
  qps: number;
  /** Requests allowed at once after a quiet spell. */
  burst: number;
}

/** controller-runtime's defaults. */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 20, burst: 30 };

/** Tokens (negative: reservations of callers still waiting) as of `at` (ms). */
export interface BucketState {
  tokens: number;
  at: number;
}

/** Takes one token at `now`: the state after, and how long the caller waits for its token. Pure. */
export function reserveToken(
  state: BucketState,
  now: number,
  limit: RateLimit,
): { state: BucketState; waitMs: number } {
  const refilled = Math.min(limit.burst, state.tokens + ((now - state.at) / 1000) * limit.qps);
  const tokens = refilled - 1;
  return { state: { tokens, at: now }, waitMs: tokens >= 0 ? 0 : (-tokens / limit.qps) * 1000 };
}

export class TokenBucket {
  private readonly limit: RateLimit;
  private readonly now: () => number;
  private state: BucketState;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) {
      throw new Error(
        `rate limit: qps must be above 0 and burst at least 1 (got ${limit.qps}, ${limit.burst})`,
      );
    }
    this.limit = limit;
    this.now = now;
    this.state = { tokens: limit.burst, at: now() };
  }

  /** Resolves once the caller holds a token, in the order callers asked; rejects if the signal aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { state, waitMs } = reserveToken(this.state, this.now(), this.limit);
    this.state = state;
    if (waitMs <= 0) return;
    await sleep(waitMs, signal);
    if (signal?.aborted) {
      // The reservation goes back, so an aborted caller does not slow the ones behind it.
      this.state = { ...this.state, tokens: this.state.tokens + 1 };
      signal.throwIfAborted();
    }
  }
}
