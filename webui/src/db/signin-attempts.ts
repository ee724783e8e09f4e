import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { SigninAttemptEntity } from './entities.ts';

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
 * expires (for Retry-After). Expired rows are deleted on the way, so the table
 * holds at most one window of attempts. Two replicas racing on one key may each
 * let one extra attempt through; the limit is a brake, not a lock.
 */
export async function recordAttempt(em: EntityManager, w: AttemptWindow): Promise<number> {
  const since = w.now - w.windowMs;
  await em.nativeDelete(SigninAttemptEntity, { at: { $lte: since } });
  const recent = await em.count(SigninAttemptEntity, { keyHash: w.keyHash, at: { $gt: since } });
  if (recent >= w.limit) {
    const [oldest] = await em.find(
      SigninAttemptEntity,
      { keyHash: w.keyHash, at: { $gt: since } },
      { orderBy: { at: 'asc' }, limit: 1, fields: ['at'] },
    );
    const expiresAt = (oldest?.at ?? w.now) + w.windowMs;
    return Math.max(1, Math.ceil((expiresAt - w.now) / 1000));
  }
  await em.insert(SigninAttemptEntity, {
    id: randomBytes(16).toString('hex'),
    keyHash: w.keyHash,
    at: w.now,
  });
  return 0;
}
