import { describe, expect, it } from 'vitest';
import { EventDeduplicator } from './event-deduplicator.ts';

describe('EventDeduplicator', () => {
  it('lets an Event through once per window', () => {
    const d = new EventDeduplicator({ windowMs: 1000 });
    expect(d.isNew('a', 0)).toBe(true);
    expect(d.isNew('a', 999)).toBe(false);
    expect(d.isNew('b', 999)).toBe(true);
    expect(d.isNew('a', 1000)).toBe(true);
    expect(d.isNew('a', 1500)).toBe(false);
  });

  it('forgets the oldest key beyond its size', () => {
    const d = new EventDeduplicator({ windowMs: 1000, maxKeys: 2 });
    d.isNew('a', 0);
    d.isNew('b', 0);
    d.isNew('c', 0);
    expect(d.isNew('a', 1)).toBe(true);
    expect(d.isNew('c', 1)).toBe(false);
  });
});
