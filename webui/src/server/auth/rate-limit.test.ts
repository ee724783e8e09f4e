// The sign-in limiter on a real SQLite file, with a fake clock. Its sharing
// between replicas is tested on Postgres in server.int.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/orm.ts';
import { tempDir } from '../testing/server-process.ts';
import { RateLimiter } from './rate-limit.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function database(): Promise<Database> {
  const t = tempDir();
  const db = await openDatabase({ databaseUrl: undefined, dataDir: t.dir });
  cleanups.push(() => db.close(), t.remove);
  await db.migrate();
  return db;
}

describe('RateLimiter', () => {
  it('allows `limit` hits per window and then says how long to wait, per key and scope', async () => {
    const db = await database();
    let now = 1_000_000;
    const opts = { limit: 3, windowMs: 10_000, em: () => db.fork(), now: () => now };
    const rl = new RateLimiter({ scope: 'email', ...opts });
    expect([await rl.hit('a'), await rl.hit('a'), await rl.hit('a')]).toEqual([0, 0, 0]);
    now += 2_000;
    expect(await rl.hit('a')).toBe(8);
    expect(await rl.hit('b')).toBe(0);
    // The same key in another scope counts apart.
    expect(await new RateLimiter({ scope: 'client', ...opts }).hit('a')).toBe(0);
  });

  it('slides: old hits expire, and expired rows are deleted', async () => {
    const db = await database();
    let now = 1_000_000;
    const rl = new RateLimiter({
      scope: 'email',
      limit: 2,
      windowMs: 1_000,
      em: () => db.fork(),
      now: () => now,
    });
    await rl.hit('a');
    now += 500;
    await rl.hit('a');
    expect(await rl.hit('a')).toBeGreaterThan(0);
    now += 500;
    expect(await rl.hit('a')).toBe(0);
    expect(await rl.hit('a')).toBeGreaterThan(0);
    now += 5_000;
    expect(await rl.hit('b')).toBe(0);
    const rows = await db.fork().getConnection().execute('select key_hash from signin_attempts');
    expect(rows).toHaveLength(1);
  });

  it('is shared by two limiters on one database, as replicas are, and stores no key in clear', async () => {
    const db = await database();
    const opts = { scope: 'email', limit: 2, windowMs: 60_000, em: () => db.fork() };
    const replicaA = new RateLimiter(opts);
    const replicaB = new RateLimiter(opts);
    expect(await replicaA.hit('ada@example.com')).toBe(0);
    expect(await replicaB.hit('ada@example.com')).toBe(0);
    expect(await replicaA.hit('ada@example.com')).toBeGreaterThan(0);
    expect(await replicaB.hit('ada@example.com')).toBeGreaterThan(0);
    const rows = await db.fork().getConnection().execute('select * from signin_attempts');
    expect(JSON.stringify(rows)).not.toContain('ada');
  });

  it('lets exactly `limit` of many concurrent hits through (count and record are one step)', async () => {
    const db = await database();
    const opts = { scope: 'email', limit: 5, windowMs: 60_000, em: () => db.fork() };
    const replicas = [new RateLimiter(opts), new RateLimiter(opts)];
    const waits = await Promise.all(
      Array.from({ length: 60 }, (_, i) => replicas[i % 2]?.hit('ada@example.com') ?? Promise.resolve(-1)),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(waits.filter((w) => w > 0)).toHaveLength(55);
  });

  it('keeps each scope to its own window when sweeping expired rows', async () => {
    const db = await database();
    let now = 1_000_000;
    const common = { em: () => db.fork(), now: () => now };
    const short = new RateLimiter({ scope: 'signin', limit: 1, windowMs: 1_000, ...common });
    const long = new RateLimiter({ scope: 'signup', limit: 1, windowMs: 60_000, ...common });
    expect(await long.hit('a')).toBe(0);
    now += 5_000;
    // The short limiter's sweep must not delete the long window's attempt.
    expect(await short.hit('a')).toBe(0);
    expect(await long.hit('a')).toBe(55);
  });
});
