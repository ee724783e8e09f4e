import { describe, expect, it } from 'vitest';
import { percentile, summarise } from './latency.ts';

describe('latency bench arithmetic', () => {
  it('nearest-rank percentiles of unsorted samples', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 99)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });

  it('added time over the direct call, and as a multiple of what nginx adds', () => {
    const flat = (v: number) => Array.from({ length: 100 }, () => v);
    const out = summarise({
      direct: flat(0.3),
      nginx: flat(0.35),
      nodeFloor: flat(0.6),
      api: flat(0.8),
      all: flat(0.8),
      ingress: flat(0.9),
      ingressViaFrontend: flat(1.3),
      service: flat(1.2),
    });
    expect(out.find((t) => t.target === 'direct')).toEqual({ target: 'direct', p50: 0.3, p99: 0.3 });
    expect(out.find((t) => t.target === 'api')).toMatchObject({
      added: { p50: 0.5, p99: 0.5 },
      timesNginx: 10,
    });
    expect(out.find((t) => t.target === 'ingress')?.added?.p50).toBeCloseTo(0.6, 6);
  });
});
