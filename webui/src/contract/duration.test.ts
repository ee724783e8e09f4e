import { describe, expect, it } from 'vitest';
import { EnvError, parseDurationMs, readEnv } from './env.ts';

describe('parseDurationMs (Open WebUI duration grammar)', () => {
  it('sums units', () => {
    expect(parseDurationMs('4w')).toBe(4 * 7 * 86400_000);
    expect(parseDurationMs('1h30m')).toBe(90 * 60_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1.5h')).toBe(5400_000);
  });

  it('treats -1 and 0 as no expiry', () => {
    expect(parseDurationMs('-1')).toBeNull();
    expect(parseDurationMs('0')).toBeNull();
  });

  it('refuses anything else with a message that shows an example', () => {
    expect(() => parseDurationMs('4 weeks')).toThrow(/e\.g\.|such as/);
    expect(() => parseDurationMs('')).toThrow();
    expect(() => parseDurationMs('-5m')).toThrow();
  });

  it('makes JWT_EXPIRES_IN fail startup with its name', () => {
    expect(() => readEnv({ JWT_EXPIRES_IN: 'soon' })).toThrow(EnvError);
    expect(() => readEnv({ JWT_EXPIRES_IN: 'soon' })).toThrow(/^JWT_EXPIRES_IN: /);
  });
});
