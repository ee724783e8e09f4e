import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, sleep } from './backoff.ts';

const policy = { baseMs: 100, capMs: 1000, jitter: 0.2, resetAfterMs: 5000 };

describe('backoffDelay', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 30].map((n) => backoffDelay(policy, n, 0.5))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it('spreads by the jitter fraction either way', () => {
    expect(backoffDelay(policy, 1, 0)).toBe(80);
    expect(backoffDelay(policy, 1, 0.999_999)).toBe(120);
    expect(backoffDelay({ ...policy, jitter: 0 }, 3, 0.9)).toBe(400);
  });
});

describe('Backoff', () => {
  function clocked(p = policy) {
    const clock = { t: 0, now: () => clock.t, random: () => 0.5 };
    return { clock, backoff: new Backoff(p, clock) };
  }

  it('grows with each failure and honours a longer Retry-After', () => {
    const { backoff } = clocked();
    expect([backoff.failed(), backoff.failed(), backoff.failed()]).toEqual([100, 200, 400]);
    expect(backoff.failed(3000)).toBe(3000);
    expect(backoff.failures).toBe(4);
  });

  it('keeps growing after a success that did not last', () => {
    const { clock, backoff } = clocked();
    backoff.failed();
    backoff.failed();
    backoff.succeeded();
    clock.t += 4999;
    expect(backoff.failed()).toBe(400);
  });

  it('starts again from the base once successes lasted resetAfterMs', () => {
    const { clock, backoff } = clocked();
    backoff.failed();
    backoff.failed();
    backoff.succeeded();
    clock.t += 3000;
    backoff.succeeded(); // still the same healthy run
    clock.t += 2000;
    expect(backoff.failed()).toBe(100);
  });

  it('forgets at the first success when resetAfterMs is 0', () => {
    const { backoff } = clocked({ ...policy, resetAfterMs: 0 });
    backoff.failed();
    backoff.failed();
    backoff.succeeded();
    expect(backoff.failures).toBe(0);
    expect(backoff.failed()).toBe(100);
  });
});

describe('sleep', () => {
  it('ends early when its signal aborts', async () => {
    const ctrl = new AbortController();
    const started = performance.now();
    const slept = sleep(10_000, ctrl.signal);
    ctrl.abort();
    await slept;
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
