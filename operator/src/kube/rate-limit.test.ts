import { describe, expect, it } from 'vitest';
import { reserveToken, TokenBucket } from './rate-limit.ts';

const limit = { qps: 20, burst: 30 };

describe('reserveToken', () => {
  it('hands out the burst at once, then one token every 1/qps seconds', () => {
    let state = { tokens: limit.burst, at: 0 };
    const waits: number[] = [];
    for (let i = 0; i < 33; i++) {
      const r = reserveToken(state, 0, limit);
      state = r.state;
      waits.push(r.waitMs);
    }
    expect(waits.slice(0, 30).every((w) => w === 0)).toBe(true);
    expect(waits.slice(30)).toEqual([50, 100, 150]);
  });

  it('refills at qps, never beyond the burst', () => {
    const drained = { tokens: 0, at: 0 };
    expect(reserveToken(drained, 500, limit).state.tokens).toBe(9);
    expect(reserveToken(drained, 60_000, limit).state.tokens).toBe(29);
  });

  it('allows at most burst + qps × t requests in any t seconds', () => {
    let state = { tokens: limit.burst, at: 0 };
    let clock = 0;
    let sent = 0;
    // A caller that loops as fast as it may for 10 s.
    while (clock <= 10_000) {
      const r = reserveToken(state, clock, limit);
      state = r.state;
      clock += r.waitMs;
      if (clock <= 10_000) sent++;
    }
    expect(sent).toBeLessThanOrEqual(limit.burst + limit.qps * 10);
  });
});

describe('TokenBucket', () => {
  it('gives a reservation back when its caller gives up', async () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, () => now);
    await bucket.take();
    const ctrl = new AbortController();
    const waiting = bucket.take(ctrl.signal);
    ctrl.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    now = 1000;
    const started = performance.now();
    await bucket.take();
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses a limit that would never hand out a token', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow(/qps must be above 0/);
  });
});
