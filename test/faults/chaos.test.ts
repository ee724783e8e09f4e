import { describe, expect, it } from 'vitest';
import { everyFault, type Fault, maxInWindow, seededRandom, tokenBucketCeiling } from './chaos.ts';

describe('everyFault', () => {
  it('is the same run for the same seed', () => {
    const run = (seed: number) => {
      const plan = everyFault(seededRandom(seed));
      return Array.from({ length: 50 }, (_, i) => plan({ method: 'GET', path: '/x', watch: i % 2 === 0 }));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('injects every kind of fault into watches, and only request faults into other calls', () => {
    const plan = everyFault(seededRandom(1));
    const kinds = (watch: boolean) => {
      const seen = new Set<Fault['kind']>();
      for (let i = 0; i < 2000; i++) seen.add(plan({ method: 'GET', path: '/x', watch }).kind);
      return [...seen].sort();
    };
    expect(kinds(true)).toEqual([
      'forward-then-cut',
      'stall',
      'status',
      'throttle',
      'watch-close',
      'watch-error',
    ]);
    expect(kinds(false)).toEqual(['forward', 'stall', 'status', 'throttle']);
  });
});

describe('maxInWindow', () => {
  it('counts the busiest window', () => {
    expect(maxInWindow([0, 100, 900, 1000, 1050, 5000], 1000)).toBe(4);
    expect(maxInWindow([], 1000)).toBe(0);
  });
});

describe('tokenBucketCeiling', () => {
  it('is burst + qps × t', () => {
    expect(tokenBucketCeiling(20, 30, 10, 0)).toBe(230);
    expect(tokenBucketCeiling(20, 30, 1)).toBe(52);
  });
});
