import { describe, expect, it } from 'vitest';
import { type Cache, CachedQueue } from './cached-queue.ts';

class Fake extends CachedQueue {
  readonly seen: string[] = [];
  readonly cache = { resource: 'things', synced: false, started: 0, stopped: 0 };

  add(key: string): void {
    this.queue.add(key);
  }

  protected async handle(key: string) {
    this.seen.push(key);
    return undefined;
  }

  protected caches(): Cache[] {
    const c = this.cache;
    return [
      {
        resource: c.resource,
        start: () => void c.started++,
        stop: async () => void c.stopped++,
        hasSynced: () => c.synced,
        silenceMs: () => 7,
      },
    ];
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CachedQueue', () => {
  it('works on keys only once started and every cache has synced, and not after a drain', async () => {
    const q = new Fake({});
    q.add('a');
    q.startInformers();
    expect(q.cache.started).toBe(1);
    q.startWorkers();
    await tick(120);
    expect(q.seen).toEqual([]);
    expect(q.workersRunning()).toBe(false);
    q.cache.synced = true;
    await tick(120);
    expect(q.seen).toEqual(['a']);
    expect(q.workersRunning()).toBe(true);
    expect(q.watchSilenceMs()).toEqual({ things: 7 });
    await q.stop();
    expect(q.workersRunning()).toBe(false);
    expect(q.cache.stopped).toBe(1);
    q.add('b');
    await tick(20);
    expect(q.seen).toEqual(['a']);
  });
});
