import type { Dialect } from './migrations.ts';

/** The database a DATABASE_URL names: Postgres for postgres:// and postgresql://, else SQLite. */
export function dialectOf(databaseUrl: string | undefined): Dialect {
  return databaseUrl !== undefined && /^postgres(ql)?:\/\//.test(databaseUrl) ? 'postgresql' : 'sqlite';
}

/** How often this process reads again what it caches from the database (settings, session users). */
export interface Rereads {
  /** Saved settings are read again when older than this (ms); Infinity: never. */
  configTtlMs: number;
  /** A session user is reused for this long (ms); Infinity: until this process changes it. */
  sessionTtlMs: number;
  /** Whether settings are also read ahead in the background, so that no request waits for them. */
  refreshAhead: boolean;
}

/**
 * Only Postgres is shared: several replicas write it, and each sees the others' changes by reading
 * again within a second. A SQLite file has one writer, this process (the operator runs one replica
 * on it, and `webui serve` is the only command), and every change this process makes updates its
 * caches at once (config/store.ts, db/orm.ts), so reading again would find nothing new. It was not
 * free: SQLite answers synchronously, and each read (~1.5-3.5 ms through the ORM) stalled every
 * request in flight once or twice a second, which was most of the proxy's 99th percentile
 * (docs/benchmarks.md).
 */
export function rereadsFor(dialect: Dialect, sharedTtlMs: { config: number; session: number }): Rereads {
  if (dialect === 'postgresql')
    return { configTtlMs: sharedTtlMs.config, sessionTtlMs: sharedTtlMs.session, refreshAhead: true };
  return {
    configTtlMs: Number.POSITIVE_INFINITY,
    sessionTtlMs: Number.POSITIVE_INFINITY,
    refreshAhead: false,
  };
}
