import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { configRefresh } from './config-refresh.ts';

/** A store that records reads: `load` (background) and `refreshIfStale` when older than 1 s. */
function fakeStore(clock: { now: number }) {
  const reads: Array<'background' | 'waited'> = [];
  let loadedAt = clock.now;
  return {
    reads,
    async load() {
      reads.push('background');
      loadedAt = clock.now;
    },
    async refreshIfStale() {
      if (clock.now - loadedAt < 1000) return;
      reads.push('waited');
      loadedAt = clock.now;
    },
  };
}

const api = { path: '/api/v1/chats/' } as Context;
const next = async () => {};
const logger = { warn: () => {} };

describe('configRefresh', () => {
  it('under steady traffic re-reads in the background, so no request waits for the database', async () => {
    const clock = { now: 0 };
    const store = fakeStore(clock);
    const mw = configRefresh(store, { ready: true }, logger, () => clock.now);
    for (clock.now = 0; clock.now <= 5000; clock.now += 100) {
      await mw(api, next);
      // Between requests the event loop turns, and the queued background read runs.
      await new Promise((r) => setImmediate(r));
    }
    expect(store.reads.length).toBeGreaterThanOrEqual(9);
    expect(store.reads).not.toContain('waited');
  });

  it('after an idle spell the next request waits for fresh values; an idle server reads nothing', async () => {
    const clock = { now: 0 };
    const store = fakeStore(clock);
    const mw = configRefresh(store, { ready: true }, logger, () => clock.now);
    clock.now = 60_000;
    expect(store.reads).toEqual([]);
    await mw(api, next);
    expect(store.reads).toEqual(['waited']);
  });

  it('leaves static files, /health and a server that is not ready alone', async () => {
    const clock = { now: 5000 };
    const store = fakeStore({ now: 0 });
    await configRefresh(
      store,
      { ready: true },
      logger,
      () => clock.now,
    )({ path: '/assets/app.js' } as Context, next);
    await configRefresh(store, { ready: false }, logger, () => clock.now)(api, next);
    expect(store.reads).toEqual([]);
  });

  it('logs a failed background read and keeps serving', async () => {
    const clock = { now: 0 };
    const warnings: string[] = [];
    const mw = configRefresh(
      { load: () => Promise.reject(new Error('db down')), refreshIfStale: async () => {} },
      { ready: true },
      { warn: (_o: unknown, msg: string) => void warnings.push(msg) },
      () => clock.now,
    );
    clock.now = 600;
    let reached = false;
    await mw(api, async () => {
      reached = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(reached).toBe(true);
    expect(warnings).toEqual(['reading saved settings failed']);
  });
});
