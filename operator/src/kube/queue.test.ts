import { describe, expect, it } from 'vitest';
import { PermanentError, WorkQueue } from './queue.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('deduplicates keys that are waiting', async () => {
    const runs: string[] = [];
    const q = new WorkQueue({
      handler: async (k) => {
        runs.push(k);
        return undefined;
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.start();
    await q.whenIdle();
    expect(runs).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and reruns it once when it changed meanwhile', async () => {
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const q = new WorkQueue({
      concurrency: 4,
      handler: async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        if (runs === 1) await gate.promise;
        active--;
        return undefined;
      },
    });
    q.start();
    q.add('a');
    q.add('a');
    q.add('a');
    await new Promise((r) => setImmediate(r));
    q.add('a');
    gate.resolve();
    await q.whenIdle();
    await q.whenIdle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('backs off exponentially per key and forgets on success', async () => {
    let calls = 0;
    const q = new WorkQueue({
      backoff: { baseMs: 1 },
      random: () => 0.5,
      handler: async () => {
        calls++;
        if (calls < 3) throw new Error('boom');
        return undefined;
      },
    });
    expect(q.backoffMs(1)).toBe(1);
    expect(q.backoffMs(4)).toBe(8);
    q.start();
    q.add('k');
    while (calls < 3) await new Promise((r) => setTimeout(r, 5));
    await q.whenIdle();
    expect(q.failureCount('k')).toBe(0);
  });

  it('caps the backoff', () => {
    const q = new WorkQueue({
      backoff: { baseMs: 1000, capMs: 5000 },
      random: () => 0.5,
      handler: async () => undefined,
    });
    expect(q.backoffMs(30)).toBe(5000);
  });

  it('does not retry a permanent failure: the key waits until it is added again', async () => {
    let calls = 0;
    const errors: string[] = [];
    const q = new WorkQueue({
      backoff: { baseMs: 1 },
      hooks: { onError: (_k, e) => errors.push(String(e)) },
      handler: async () => {
        calls++;
        throw new PermanentError('the spec cannot be rendered');
      },
    });
    q.start();
    q.add('k');
    await q.whenIdle();
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(1);
    expect(q.size).toBe(0);
    expect(errors).toEqual(['PermanentError: the spec cannot be rendered']);
    q.add('k'); // what an edit of the object does
    await q.whenIdle();
    expect(calls).toBe(2);
    await q.shutdown();
  });

  it('requeues after the delay a handler asks for, keeping the earliest schedule', async () => {
    const q = new WorkQueue({ handler: async () => ({ requeueAfterMs: 60_000 }) });
    q.start();
    q.add('k');
    await q.whenIdle();
    expect(q.size).toBe(1);
    await q.shutdown();
    expect(q.size).toBe(0);
  });
});
