import { describe, expect, it } from 'vitest';
import { LONGEST_SESSION_MS, sessionLifetimeMs } from './session.ts';

describe('sessionLifetimeMs', () => {
  it('is the JWT_EXPIRES_IN duration', () => {
    expect(sessionLifetimeMs('4w')).toBe(28 * 86_400_000);
    expect(sessionLifetimeMs('1h30m')).toBe(90 * 60_000);
  });

  it('is the longest session for -1 and 0, and caps anything longer (a schemathesis find: 99999w gave exp 6.9e23)', () => {
    expect(sessionLifetimeMs('-1')).toBe(LONGEST_SESSION_MS);
    expect(sessionLifetimeMs('0')).toBe(LONGEST_SESSION_MS);
    expect(sessionLifetimeMs('99999999999999w')).toBe(LONGEST_SESSION_MS);
    expect(sessionLifetimeMs('366d')).toBe(LONGEST_SESSION_MS);
  });
});
