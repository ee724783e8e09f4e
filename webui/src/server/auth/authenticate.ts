import type { Middleware } from 'koa';
import { USER_ROLES, type UserRole } from '../../contract/env.ts';
import type { AppState } from '../types.ts';
import type { SessionAccount } from './session-cache.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export const INVALID_SESSION = 'Your session has expired or the token is invalid. Please sign in again.';

/** The token from `Authorization: Bearer ...`, else the `token` cookie (read only when needed). */
export function presentedToken(
  authorization: string,
  cookie: string | undefined | (() => string | undefined),
): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (m) return m[1];
  const c = typeof cookie === 'function' ? cookie() : cookie;
  return c === undefined || c === '' ? undefined : c;
}

export interface AuthenticateDeps {
  secretKey: () => string;
  /** Looks the user up; undefined when the account no longer exists or the DB is not ready. */
  findUser: (id: string) => Promise<SessionAccount | undefined>;
}

/**
 * Puts the signed-in user on ctx.state.user. It never rejects a request by
 * itself: public routes (e.g. /api/config) treat a bad token as anonymous,
 * and the route guards answer 401 with ctx.state.authError.
 */
export function authenticate(deps: AuthenticateDeps): Middleware<AppState> {
  // A token's signature is checked once; its expiry and the account are checked on every call.
  const tokens = new VerifiedTokens();
  return async function authenticateMiddleware(ctx, next) {
    const token = presentedToken(ctx.get('authorization'), () => ctx.cookies.get('token'));
    if (token !== undefined) {
      const result = tokens.verify(token, deps.secretKey());
      if (!result.ok) {
        ctx.state.authError = INVALID_SESSION;
      } else {
        const user = await deps.findUser(result.claims.id);
        // Another token version: the user signed out or changed the password since this token was issued.
        if (
          user === undefined ||
          !USER_ROLES.includes(user.role as UserRole) ||
          user.tokenVersion !== result.claims.tv
        ) {
          ctx.state.authError = INVALID_SESSION;
        } else {
          ctx.state.user = user;
          ctx.state.session = { token, expiresAt: result.claims.exp };
        }
      }
    }
    await next();
  };
}
