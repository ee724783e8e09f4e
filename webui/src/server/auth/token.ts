import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HS256 JWTs, as Open WebUI issues them: payload `{id, exp?}`. Written on
 * node:crypto because it is a few lines and pulls in no dependency.
 */
export interface TokenClaims {
  id: string;
  iat: number;
  /** Unix seconds; absent means the token never expires (JWT_EXPIRES_IN=-1). */
  exp?: number;
}

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function sign(input: string, secret: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

export function issueToken(
  userId: string,
  secret: string,
  lifetimeMs: number | null,
  nowMs = Date.now(),
): {
  token: string;
  claims: TokenClaims;
} {
  const claims: TokenClaims = { id: userId, iat: Math.floor(nowMs / 1000) };
  if (lifetimeMs !== null) claims.exp = Math.floor((nowMs + lifetimeMs) / 1000);
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return { token: `${body}.${sign(body, secret)}`, claims };
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

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
  if (c.exp !== undefined && (typeof c.exp !== 'number' || c.exp * 1000 <= nowMs))
    return { ok: false, reason: 'expired' };
  return {
    ok: true,
    claims: {
      id: c.id,
      iat: typeof c.iat === 'number' ? c.iat : 0,
      ...(c.exp === undefined ? {} : { exp: c.exp }),
    },
  };
}
