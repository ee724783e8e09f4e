import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { recordAttempt } from '../../db/signin-attempts.ts';

/**
 * A sliding-window limit: at most `limit` hits per key within `windowMs`,
 * counted in the database, so every replica on one database enforces the same
 * limit (an attacker cannot multiply it by the replica count). Keys are stored
 * as SHA-256 hashes of scope and key.
 */
export class RateLimiter {
  readonly #scope: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #em: () => EntityManager;
  readonly #now: () => number;

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
  hit(key: string): Promise<number> {
    const keyHash = createHash('sha256').update(`${this.#scope}\0${key}`).digest('hex');
    return recordAttempt(this.#em(), {
      keyHash,
      limit: this.#limit,
      windowMs: this.#windowMs,
      now: this.#now(),
    });
  }
}
