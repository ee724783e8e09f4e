import { describe, expect, it } from 'vitest';
import { dialectOf, rereadsFor } from './dialect.ts';

describe('database dialect and re-reads', () => {
  it('Postgres for postgres:// and postgresql:// URLs, SQLite for anything else', () => {
    expect(dialectOf('postgres://u:p@db:5432/webui')).toBe('postgresql');
    expect(dialectOf('postgresql://db/webui')).toBe('postgresql');
    expect(dialectOf('sqlite:///data/webui.db')).toBe('sqlite');
    expect(dialectOf(undefined)).toBe('sqlite');
  });

  it('Postgres, shared by replicas, is read again within the given bounds and ahead of requests', () => {
    expect(rereadsFor('postgresql', { config: 1000, session: 1000 })).toEqual({
      configTtlMs: 1000,
      sessionTtlMs: 1000,
      refreshAhead: true,
    });
  });

  it('SQLite, written by this process alone, is never read again for what it already holds', () => {
    expect(rereadsFor('sqlite', { config: 1000, session: 1000 })).toEqual({
      configTtlMs: Number.POSITIVE_INFINITY,
      sessionTtlMs: Number.POSITIVE_INFINITY,
      refreshAhead: false,
    });
  });
});
