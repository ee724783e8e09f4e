import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HS256 JWTs, as Open WebUI issues them (`{id, exp}`), plus the account's
 * token version. Written on node:crypto because it is a few lines and pulls
 * in no dependency.
 */
export interface TokenClaims {
  id: string;
  iat: number;
  /** Unix seconds. Always present: a token without one is refused (a stolen one would work forever). */
  exp: number;
  /** The account's token version when issued (see UserEntity.tokenVersion); 0 for tokens from before it existed. */
  tv: number;
}

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function sign(input: string, secret: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

export function issueToken(
  userId: string,
  secret: string,
  lifetimeMs: number,
  nowMs = Date.now(),
  tokenVersion = 0,
): {
  token: string;
  claims: TokenClaims;
} {
  const claims: TokenClaims = {
    id: userId,
    iat: Math.floor(nowMs / 1000),
    exp: Math.floor((nowMs + lifetimeMs) / 1000),
    tv: tokenVersion,
  };
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return { token: `${body}.${sign(body, secret)}`, claims };
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'no-expiry' };

export function verifyToken(token: string, secret: string, nowMs = Date.now()): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [header, payload, signature] = parts as [string, string, string];
  const expected = Buffer.from(sign(`${header}.${payload}`, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'signature' };
  let claims: unknown;
  let head: unknown;
  try {
    head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if ((head as { alg?: unknown } | null)?.alg !== 'HS256') return { ok: false, reason: 'malformed' };
  const c = claims as Partial<TokenClaims> | null;
  if (typeof c?.id !== 'string') return { ok: false, reason: 'malformed' };
  if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) return { ok: false, reason: 'no-expiry' };
  if (c.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  if (c.tv !== undefined && !Number.isSafeInteger(c.tv)) return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    claims: { id: c.id, iat: typeof c.iat === 'number' ? c.iat : 0, exp: c.exp, tv: c.tv ?? 0 },
  };
}
