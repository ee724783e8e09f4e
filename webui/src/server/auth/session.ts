import type { Context } from 'koa';
import { z } from 'zod';
import type { ConfigStore } from '../../config/store.ts';
import type { ResolvedEnv, UserRole } from '../../contract/env.ts';
import { parseDurationMs, USER_ROLES } from '../../contract/env.ts';
import type { UserRow } from '../../db/users.ts';
import { forwardedPrefix, viaHttps } from './client-ip.ts';
import { issueToken } from './token.ts';

/** What each role may do in the UI (the server enforces the same through its guards). */
export const Permissions = z.object({
  chat: z.object({ use: z.boolean() }),
  ollama: z.object({ use: z.boolean(), manage: z.boolean() }),
});

/** Open WebUI's SessionUserResponse: what sign-up, sign-in and GET /api/v1/auths answer. */
export const SessionUserResponse = z.object({
  token: z.string(),
  token_type: z.literal('Bearer'),
  expires_at: z.number().int().nullable(),
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  profile_image_url: z.string(),
  permissions: Permissions,
});
export type SessionUserResponse = z.infer<typeof SessionUserResponse>;

export function permissionsFor(role: string): z.infer<typeof Permissions> {
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
    role: user.role as UserRole,
    profile_image_url: user.profileImageUrl,
    permissions: permissionsFor(user.role),
  };
}

/**
 * The `token` cookie: HttpOnly, SameSite=Lax, Secure when the client used
 * HTTPS. Written by hand because Koa's cookie helper refuses Secure on a
 * plain-HTTP socket, which is what a TLS-terminating ingress gives us.
 */
export function setTokenCookie(
  ctx: Context,
  token: string,
  expiresAt: number | null,
  secure: boolean,
  path = '/',
): void {
  const parts = [`token=${token}`, `Path=${path}`, 'HttpOnly', 'SameSite=Lax'];
  if (expiresAt !== null) parts.push(`Expires=${new Date(expiresAt * 1000).toUTCString()}`);
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}

export function clearTokenCookie(ctx: Context, path = '/'): void {
  ctx.append(
    'Set-Cookie',
    `token=; Path=${path}; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
  );
}

/**
 * The cookie's Path: the app's own prefix, so two apps on one host under
 * different sub-paths keep separate sessions. WEBUI_BASE_PATH when this
 * process serves the prefix itself, else the prefix a trusted frontend
 * forwarder reports; "/" at the root.
 */
/** What sessions need of the server's services (a narrow view, so auth/ does not import the services it serves). */
export interface SessionDeps {
  env: Pick<ResolvedEnv, 'basePath' | 'forwardedAllowIps'>;
  config: Pick<ConfigStore, 'get'>;
  secretKey: string;
}

export function cookiePath(ctx: Context, svc: Pick<SessionDeps, 'env'>): string {
  const prefix =
    svc.env.basePath ||
    forwardedPrefix(
      ctx.request.socket.remoteAddress ?? '',
      ctx.get('x-forwarded-prefix'),
      svc.env.forwardedAllowIps,
    );
  return prefix || '/';
}

/**
 * The longest session: what JWT_EXPIRES_IN -1 or 0 ("no expiry") gives, and
 * the cap on any longer duration. Every token carries an `exp`, because one
 * without would work forever once stolen (the session middleware refuses
 * it), and an `exp` millennia away is the same thing (and no cookie date).
 */
export const LONGEST_SESSION_MS = 365 * 86_400_000;

/** How long a session started now lasts under this JWT_EXPIRES_IN. */
export function sessionLifetimeMs(jwtExpiresIn: string): number {
  return Math.min(parseDurationMs(jwtExpiresIn) ?? LONGEST_SESSION_MS, LONGEST_SESSION_MS);
}

/** Issues a token with the current JWT_EXPIRES_IN and the user's token version, sets the cookie, and returns the session. */
export function startSession(ctx: Context, svc: SessionDeps, user: UserRow): SessionUserResponse {
  const lifetime = sessionLifetimeMs(svc.config.get('jwtExpiresIn'));
  const { token, claims } = issueToken(user.id, svc.secretKey, lifetime, Date.now(), user.tokenVersion);
  const expiresAt = claims.exp;
  const secure = viaHttps(
    ctx.secure,
    ctx.request.socket.remoteAddress ?? '',
    ctx.get('x-forwarded-proto'),
    svc.env.forwardedAllowIps,
  );
  setTokenCookie(ctx, token, expiresAt, secure, cookiePath(ctx, svc));
  return sessionResponse(user, token, expiresAt);
}
