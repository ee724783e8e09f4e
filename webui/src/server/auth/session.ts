import type { Context } from 'koa';
import { parseDurationMs } from '../../contract/env.ts';
import type { UserRow } from '../../db/users.ts';
import type { Services } from '../services.ts';
import { issueToken } from './token.ts';

/** Open WebUI's SessionUserResponse. */
export interface SessionUserResponse {
  token: string;
  token_type: 'Bearer';
  expires_at: number | null;
  id: string;
  email: string;
  name: string;
  role: string;
  profile_image_url: string;
  permissions: Record<string, unknown>;
}

/** What each role may do in the UI; the server enforces the same through its guards. */
export function permissionsFor(role: string): Record<string, unknown> {
  const verified = role === 'user' || role === 'admin';
  return { chat: { use: verified }, ollama: { use: verified, manage: role === 'admin' } };
}

export function sessionResponse(user: UserRow, token: string, expiresAt: number | null): SessionUserResponse {
  return {
    token,
    token_type: 'Bearer',
    expires_at: expiresAt,
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    profile_image_url: user.profileImageUrl,
    permissions: permissionsFor(user.role),
  };
}

/** The `token` cookie: httpOnly, SameSite=Lax, Secure when the request came over HTTPS. */
export function setTokenCookie(ctx: Context, token: string, expiresAt: number | null): void {
  ctx.cookies.set('token', token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    overwrite: true,
    ...(expiresAt === null ? {} : { expires: new Date(expiresAt * 1000) }),
  });
}

export function clearTokenCookie(ctx: Context): void {
  ctx.cookies.set('token', null, { path: '/', httpOnly: true, sameSite: 'lax', overwrite: true });
}

/** Issues a token with the current JWT_EXPIRES_IN, sets the cookie, and returns the session. */
export function startSession(ctx: Context, svc: Services, user: UserRow): SessionUserResponse {
  const lifetime = parseDurationMs(svc.config.get('jwtExpiresIn'));
  const { token, claims } = issueToken(user.id, svc.secretKey, lifetime);
  const expiresAt = claims.exp ?? null;
  setTokenCookie(ctx, token, expiresAt);
  return sessionResponse(user, token, expiresAt);
}
