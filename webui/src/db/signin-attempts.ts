import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { SigninAttemptEntity } from './entities.ts';
import { ATTEMPT_SWEEP_LOCK, attemptKeyLock, ifLockFree, inLockedTransaction } from './locks.ts';

export interface AttemptWindow {
  keyHash: string;
  /** At most this many attempts per key within windowMs. */
  limit: number;
  windowMs: number;
  now: number;
}

/**
 * Records one attempt unless the key is over its limit. Returns 0 when it is
 * allowed, else the whole seconds until the oldest attempt in the window
 * expires (for Retry-After).
 *
 * Counting and recording are one step: they run under a lock on the key
 * (db/locks.ts), so concurrent attempts on any number of replicas take turns
 * and exactly `limit` get through. Without it, 300 concurrent attempts on two
 * replicas let 153 through a limit of 15 (issue 14).
 */
export function recordAttempt(em: EntityManager, w: AttemptWindow): Promise<number> {
  const since = w.now - w.windowMs;
  return inLockedTransaction(em, attemptKeyLock(w.keyHash), async (tx) => {
    const recent = await tx.find(
      SigninAttemptEntity,
      { keyHash: w.keyHash, at: { $gt: since } },
      { orderBy: { at: 'asc' }, limit: w.limit, fields: ['at'] },
    );
    if (recent.length >= w.limit) {
      const expiresAt = (recent[0]?.at ?? w.now) + w.windowMs;
      return Math.max(1, Math.ceil((expiresAt - w.now) / 1000));
    }
    await tx.insert(SigninAttemptEntity, {
      id: randomBytes(16).toString('hex'),
      keyHash: w.keyHash,
      at: w.now,
      expiresAt: w.now + w.windowMs,
    });
    return 0;
  });
}

/**
 * Deletes every attempt past its own window (each row carries its expiry, so
 * limiters with different windows share the table). Skipped when another
 * replica is sweeping right now: two deletes of the same rows could deadlock.
 */
export async function sweepExpiredAttempts(em: EntityManager, now: number): Promise<void> {
  await ifLockFree(em, ATTEMPT_SWEEP_LOCK, (tx) =>
    tx.nativeDelete(SigninAttemptEntity, { expiresAt: { $lte: now } }),
  );
}
