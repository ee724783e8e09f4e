import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { presentedToken } from './authenticate.ts';
import { issueToken, verifyToken } from './token.ts';

const SECRET = 'test-secret-key';
const T0 = Date.UTC(2026, 0, 1);

describe('JWT HS256', () => {
  it('round-trips the user id and expiry', () => {
    const { token, claims } = issueToken('u1', SECRET, 3600_000, T0);
    expect(claims.exp).toBe(T0 / 1000 + 3600);
    expect(token.split('.')).toHaveLength(3);
    expect(verifyToken(token, SECRET, T0 + 1000)).toEqual({ ok: true, claims });
  });

  it('rejects an expired token', () => {
    const { token } = issueToken('u1', SECRET, 1000, T0);
    expect(verifyToken(token, SECRET, T0 + 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a correctly signed token without exp, or with a non-numeric one', () => {
    const sign = (claims: object) => {
      const body = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
        JSON.stringify(claims),
      ).toString('base64url')}`;
      return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
    };
    expect(verifyToken(sign({ id: 'u1', iat: T0 / 1000 }), SECRET, T0)).toEqual({
      ok: false,
      reason: 'no-expiry',
    });
    expect(verifyToken(sign({ id: 'u1', exp: 'never' }), SECRET, T0)).toEqual({
      ok: false,
      reason: 'no-expiry',
    });
    expect(verifyToken(sign({ id: 'u1', exp: T0 / 1000 + 60 }), SECRET, T0).ok).toBe(true);
  });

  it('carries the token version (tv), 0 when a token predates it', () => {
    const { token, claims } = issueToken('u1', SECRET, 3600_000, T0, 7);
    expect(claims.tv).toBe(7);
    expect(verifyToken(token, SECRET, T0)).toEqual({ ok: true, claims });
    const old = issueToken('u1', SECRET, 3600_000, T0);
    expect(verifyToken(old.token, SECRET, T0)).toMatchObject({ ok: true, claims: { tv: 0 } });
  });

  it('rejects a token signed with another key, a tampered payload, and garbage', () => {
    const { token } = issueToken('u1', SECRET, 3600_000, T0);
    expect(verifyToken(token, 'other', T0)).toEqual({ ok: false, reason: 'signature' });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ id: 'admin', iat: 0 })).toString('base64url');
    expect(verifyToken(`${h}.${forged}.${s}`, SECRET, T0)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyToken('not-a-jwt', SECRET, T0)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects alg=none even with an empty signature', () => {
    const h = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const p = Buffer.from(JSON.stringify({ id: 'u1' })).toString('base64url');
    expect(verifyToken(`${h}.${p}.`, SECRET, T0).ok).toBe(false);
  });
});

describe('presentedToken', () => {
  it('prefers the Bearer header, then the cookie', () => {
    expect(presentedToken('Bearer abc', 'cookie')).toBe('abc');
    expect(presentedToken('', 'cookie')).toBe('cookie');
    expect(presentedToken('Basic xyz', undefined)).toBeUndefined();
    expect(presentedToken('', '')).toBeUndefined();
  });
});
