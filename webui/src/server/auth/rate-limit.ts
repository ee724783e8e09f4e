import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { recordAttempt, sweepExpiredAttempts } from '../../db/signin-attempts.ts';

/** Expired attempts are deleted at most this often per limiter (and at least once per window). */
const SWEEP_EVERY_MS = 60_000;

/**
 * A sliding-window limit: at most `limit` hits per key within `windowMs`,
 * counted in the database, so every replica on one database enforces the same
 * limit (an attacker cannot multiply it by the replica count), and counted
 * atomically, so concurrent hits cannot slip past it (db/signin-attempts.ts).
 * Keys are stored as SHA-256 hashes of scope and key.
 */
export class RateLimiter {
  readonly #scope: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #em: () => EntityManager;
  readonly #now: () => number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(opts: {
    scope: string;
    limit: number;
    windowMs: number;
    em: () => EntityManager;
    now?: () => number;
  }) {
    this.#scope = opts.scope;
    this.#limit = opts.limit;
    this.#windowMs = opts.windowMs;
    this.#em = opts.em;
    this.#now = opts.now ?? Date.now;
  }

  /** Records a hit. Resolves 0 when allowed, else the whole seconds to wait (for Retry-After). */
  async hit(key: string): Promise<number> {
    const now = this.#now();
    if (now - this.#lastSweep >= Math.min(this.#windowMs, SWEEP_EVERY_MS)) {
      this.#lastSweep = now;
      await sweepExpiredAttempts(this.#em(), now);
    }
    const keyHash = createHash('sha256').update(`${this.#scope}\0${key}`).digest('hex');
    return recordAttempt(this.#em(), { keyHash, limit: this.#limit, windowMs: this.#windowMs, now });
  }
}
