import { describe, expect, it } from 'vitest';
import { issueToken } from './token.ts';
import { VerifiedTokens } from './verified-tokens.ts';

const SECRET = 'a-secret-key-of-32-bytes-or-more!!';
const HOUR = 3_600_000;

describe('VerifiedTokens', () => {
  it('gives the same claims as a full check, and keeps only tokens that verified', () => {
    const cache = new VerifiedTokens();
    const { token, claims } = issueToken('u1', SECRET, HOUR, 1_000_000_000_000, 3);
    expect(cache.verify(token, SECRET, 1_000_000_000_000)).toEqual({ ok: true, claims });
    expect(cache.verify(token, SECRET, 1_000_000_000_000)).toEqual({ ok: true, claims });
    expect(cache.size).toBe(1);
    const forged = `${token.slice(0, -2)}xx`;
    expect(cache.verify(forged, SECRET, 1_000_000_000_000)).toEqual({ ok: false, reason: 'signature' });
    expect(cache.verify('not.a-token', SECRET)).toMatchObject({ ok: false });
    expect(cache.size).toBe(1);
  });

  it('checks the signature again under another key: a rotated WEBUI_SECRET_KEY refuses old tokens', () => {
    const cache = new VerifiedTokens();
    const { token } = issueToken('u1', SECRET, HOUR);
    expect(cache.verify(token, SECRET).ok).toBe(true);
    expect(cache.verify(token, 'another-secret-key-of-32-bytes-ok!!')).toEqual({
      ok: false,
      reason: 'signature',
    });
  });

  it('refuses a kept token once it has expired', () => {
    const cache = new VerifiedTokens();
    const now = 1_000_000_000_000;
    const { token } = issueToken('u1', SECRET, 60_000, now);
    expect(cache.verify(token, SECRET, now).ok).toBe(true);
    expect(cache.verify(token, SECRET, now + 59_000).ok).toBe(true);
    expect(cache.verify(token, SECRET, now + 60_000)).toEqual({ ok: false, reason: 'expired' });
    expect(cache.size).toBe(0);
  });

  it('stays within its bound, dropping the oldest tokens first', () => {
    const cache = new VerifiedTokens(2);
    const t = ['a', 'b', 'c'].map((id) => issueToken(id, SECRET, HOUR).token);
    for (const token of t) expect(cache.verify(token as string, SECRET).ok).toBe(true);
    expect(cache.size).toBe(2);
  });
});
