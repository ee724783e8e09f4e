import { describe, expect, it } from 'vitest';
import type { SessionAccount } from './session-cache.ts';
import { SessionUserCache } from './session-cache.ts';

const alice: SessionAccount = {
  id: 'a',
  email: 'a@example.com',
  name: 'Alice',
  role: 'user',
  tokenVersion: 0,
};

/** A loader that counts calls and answers from a mutable "table". */
function table(rows: Record<string, SessionAccount>) {
  const calls: string[] = [];
  return {
    calls,
    rows,
    load: async (id: string) => {
      calls.push(id);
      const row = rows[id];
      return row === undefined ? undefined : { ...row };
    },
  };
}

describe('SessionUserCache', () => {
  it('reuses a user within the lifetime and reads again after it', async () => {
    let now = 1000;
    const cache = new SessionUserCache({ ttlMs: 1000, now: () => now });
    const t = table({ a: alice });
    expect(await cache.get('a', t.load)).toEqual(alice);
    now += 400;
    expect(await cache.get('a', t.load)).toEqual(alice);
    expect(t.calls).toHaveLength(1);
    t.rows.a = { ...alice, role: 'admin' };
    now += 600; // expired: read again, and wait for it
    expect((await cache.get('a', t.load))?.role).toBe('admin');
    expect(t.calls).toHaveLength(2);
  });

  it('past half its lifetime, serves the entry and re-reads it in the background', async () => {
    let now = 0;
    const cache = new SessionUserCache({ ttlMs: 1000, now: () => now });
    const t = table({ a: alice });
    await cache.get('a', t.load);
    t.rows.a = { ...alice, role: 'admin' };
    now = 600;
    // Still the old row (600 ms old, within the lifetime); the new one is read right after.
    expect((await cache.get('a', t.load))?.role).toBe('user');
    expect(t.calls).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(t.calls).toHaveLength(2);
    now = 1050; // past the first entry's lifetime, early in the refreshed one's
    expect((await cache.get('a', t.load))?.role).toBe('admin');
    expect(t.calls).toHaveLength(2);
  });

  it('with an endless lifetime (SQLite: this process is the only writer) never reads again until invalidated', async () => {
    let now = 0;
    const cache = new SessionUserCache({ ttlMs: Number.POSITIVE_INFINITY, now: () => now });
    const t = table({ a: alice });
    await cache.get('a', t.load);
    for (const later of [600, 60_000, 86_400_000]) {
      now = later;
      expect(await cache.get('a', t.load)).toEqual(alice);
      await new Promise((r) => setImmediate(r));
    }
    expect(t.calls).toHaveLength(1);
    t.rows.a = { ...alice, role: 'admin' };
    cache.invalidate('a');
    expect((await cache.get('a', t.load))?.role).toBe('admin');
    expect(t.calls).toHaveLength(2);
  });

  it('drops the entry when the background re-read finds the account gone', async () => {
    let now = 0;
    const cache = new SessionUserCache({ ttlMs: 1000, now: () => now });
    const t = table({ a: alice });
    await cache.get('a', t.load);
    delete t.rows.a;
    now = 600;
    await cache.get('a', t.load);
    await new Promise((r) => setImmediate(r));
    expect(cache.size).toBe(0);
    expect(await cache.get('a', t.load)).toBeUndefined();
  });

  it('keeps serving a fresh entry when the background re-read fails', async () => {
    let now = 0;
    const cache = new SessionUserCache({ ttlMs: 1000, now: () => now });
    const t = table({ a: alice });
    await cache.get('a', t.load);
    now = 600;
    expect(await cache.get('a', () => Promise.reject(new Error('db down')))).toEqual(alice);
    await new Promise((r) => setImmediate(r));
    expect(cache.size).toBe(1);
    now = 1001; // expired: the read is awaited and its error surfaces
    await expect(cache.get('a', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
  });

  it('reads again at once after invalidate (role change, deletion in this process)', async () => {
    const cache = new SessionUserCache({ now: () => 0 });
    const t = table({ a: alice });
    await cache.get('a', t.load);
    t.rows.a = { ...alice, role: 'pending' };
    cache.invalidate('a');
    expect((await cache.get('a', t.load))?.role).toBe('pending');
    delete t.rows.a;
    cache.invalidate('a');
    expect(await cache.get('a', t.load)).toBeUndefined();
  });

  it('never caches a missing account', async () => {
    const cache = new SessionUserCache({ now: () => 0 });
    const t = table({});
    expect(await cache.get('x', t.load)).toBeUndefined();
    expect(await cache.get('x', t.load)).toBeUndefined();
    expect(t.calls).toEqual(['x', 'x']);
    expect(cache.size).toBe(0);
  });

  it('shares one lookup between concurrent requests of a user', async () => {
    const cache = new SessionUserCache({ now: () => 0 });
    const t = table({ a: alice });
    const [x, y] = await Promise.all([cache.get('a', t.load), cache.get('a', t.load)]);
    expect(x).toEqual(alice);
    expect(y).toBe(x);
    expect(t.calls).toHaveLength(1);
  });

  it('does not keep a row read before an invalidation that happened during the lookup', async () => {
    const cache = new SessionUserCache({ now: () => 0 });
    let release: (u: SessionAccount) => void = () => {};
    const slow = () => new Promise<SessionAccount>((r) => (release = r));
    const first = cache.get('a', slow);
    // The role changes while the old row is on its way.
    cache.invalidate('a');
    release({ ...alice, role: 'admin' });
    expect((await first)?.role).toBe('admin');
    const t = table({ a: { ...alice, role: 'user' } });
    expect((await cache.get('a', t.load))?.role).toBe('user');
    expect(t.calls).toHaveLength(1);
  });

  it('hands out users nobody can change in place', async () => {
    const cache = new SessionUserCache({ now: () => 0 });
    const t = table({ a: alice });
    const u = (await cache.get('a', t.load)) as SessionAccount;
    expect(() => {
      u.role = 'admin';
    }).toThrow(TypeError);
    expect((await cache.get('a', t.load))?.role).toBe('user');
  });

  it('does not cache a failed lookup', async () => {
    const cache = new SessionUserCache({ now: () => 0 });
    await expect(cache.get('a', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    const t = table({ a: alice });
    expect(await cache.get('a', t.load)).toEqual(alice);
  });

  it('stays within maxEntries, dropping the oldest', async () => {
    const cache = new SessionUserCache({ now: () => 0, maxEntries: 2 });
    const t = table({ a: alice, b: { ...alice, id: 'b' }, c: { ...alice, id: 'c' } });
    for (const id of ['a', 'b', 'c']) await cache.get(id, t.load);
    expect(cache.size).toBe(2);
    await cache.get('a', t.load);
    expect(t.calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
