import type { Middleware } from 'koa';
import type { UserRole } from '../../contract/env.ts';
import { forbidden, unauthorized } from '../http-error.ts';
import type { AppState } from '../types.ts';

/**
 * Lets the request through only for a signed-in user with one of `roles`.
 * The authenticate middleware, earlier in the chain, puts the user on
 * `ctx.state.user`; no user is 401, a user with another role is 403.
 */
export function requireRole(...roles: UserRole[]): Middleware<AppState> {
  return async function requireRoleMiddleware(ctx, next) {
    const user = ctx.state.user;
    if (user === undefined) throw unauthorized(ctx.state.authError);
    if (!roles.includes(user.role)) throw forbidden();
    await next();
  };
}

/** Signed-in `user` or `admin`; `pending` accounts are refused. */
export const requireVerified = () => requireRole('user', 'admin');
export const requireAdmin = () => requireRole('admin');
/** Any signed-in account, including `pending`. */
export const requireSignedIn = () => requireRole('pending', 'user', 'admin');
