import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows `limit` hits per window and then says how long to wait', () => {
    let now = 0;
    const rl = new RateLimiter({ limit: 3, windowMs: 10_000, now: () => now });
    expect([rl.hit('a'), rl.hit('a'), rl.hit('a')]).toEqual([0, 0, 0]);
    now = 2_000;
    expect(rl.hit('a')).toBe(8);
    expect(rl.hit('b')).toBe(0);
  });

  it('slides: old hits expire', () => {
    let now = 0;
    const rl = new RateLimiter({ limit: 2, windowMs: 1_000, now: () => now });
    rl.hit('a');
    now = 500;
    rl.hit('a');
    expect(rl.hit('a')).toBeGreaterThan(0);
    now = 1_000;
    expect(rl.hit('a')).toBe(0);
    expect(rl.hit('a')).toBeGreaterThan(0);
  });
});
