import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './ids.ts';

describe('timeOrderedId', () => {
  it('is a UUIDv7 carrying the millisecond timestamp', () => {
    const id = timeOrderedId(Date.UTC(2030, 0, 1));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(Date.UTC(2030, 0, 1));
  });

  it('sorts in creation order, also within one millisecond and when the clock steps back', () => {
    const t = Date.UTC(2031, 5, 1);
    const ids = [
      ...Array.from({ length: 5000 }, () => timeOrderedId(t)),
      timeOrderedId(t - 10),
      timeOrderedId(t + 5000),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
