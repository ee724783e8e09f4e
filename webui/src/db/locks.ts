import type { EntityManager } from '@mikro-orm/sql';
import { BasePostgreSqlPlatform } from '@mikro-orm/sql';

/**
 * Decisions that read and then write ("is this the first account?", "is this
 * the last admin?", "is this key over its limit?") are only safe when nobody
 * else can read in between, and replicas share the database, not memory. So
 * they run in one transaction that first takes a lock in the database:
 *
 * - Postgres: a transaction-level advisory lock, released by the commit or
 *   rollback. Keys use the two-int form, whose key space does not overlap the
 *   one-bigint form of the startup lock (orm.ts). Under READ COMMITTED every
 *   statement after the lock sees what the previous holder committed.
 * - SQLite: the transaction alone. The driver has one connection per process
 *   and holds it for the whole transaction, so transactions in one process
 *   never interleave. (One process per SQLite file is the supported layout.)
 */
export type LockKey = readonly [namespace: number, id: number];

/** Account creation, role changes and deletions: the first-admin and last-admin rules. */
export const ACCOUNTS_LOCK: LockKey = [727_002, 1];
/** Deleting expired rate-limit rows: one sweeper at a time, so two sweeps never deadlock on the same rows. */
export const ATTEMPT_SWEEP_LOCK: LockKey = [727_002, 2];

/** One rate-limit key (a hex SHA-256); two keys sharing 32 bits just take turns. */
export function attemptKeyLock(keyHash: string): LockKey {
  return [727_003, Number.parseInt(keyHash.slice(0, 8), 16) | 0];
}

const isPostgres = (em: EntityManager) => em.getPlatform() instanceof BasePostgreSqlPlatform;

/**
 * Runs `fn` in a transaction that holds `key` from its first statement to the
 * commit. `fn` must do all its reads and writes through the EntityManager it
 * is given (on SQLite another one would wait for this transaction's
 * connection forever). It starts with an empty identity map, so every read
 * comes from the database, after the lock.
 */
export function inLockedTransaction<T>(
  em: EntityManager,
  key: LockKey,
  fn: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return em.transactional(
    async (tx) => {
      if (isPostgres(tx)) await tx.execute('select pg_advisory_xact_lock(?, ?)', [...key]);
      return fn(tx);
    },
    { clear: true },
  );
}

/** Like inLockedTransaction, but gives up at once (undefined) when another transaction holds `key`. */
export function ifLockFree<T>(
  em: EntityManager,
  key: LockKey,
  fn: (tx: EntityManager) => Promise<T>,
): Promise<T | undefined> {
  return em.transactional(
    async (tx) => {
      if (isPostgres(tx)) {
        const [row] = (await tx.execute('select pg_try_advisory_xact_lock(?, ?) as got', [...key])) as Array<{
          got: boolean;
        }>;
        if (row?.got !== true) return undefined;
      }
      return fn(tx);
    },
    { clear: true },
  );
}
