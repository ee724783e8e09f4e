import type { Middleware } from 'koa';
import { HttpError } from '../http-error.ts';
import type { Lifecycle } from '../services.ts';
import { isApiPath } from '../static/frontend.ts';

/** What callers learn of a failed startup; its cause names the database's address and is logged instead. */
export const STARTUP_FAILED = 'Startup failed; the server log has the cause';

/** Paths that work before the database is ready. */
const ALWAYS = new Set(['/api/version', '/openapi.json']);

/** While migrations and the config reset run, API calls get 503 instead of touching a half-ready database. */
export function apiGate(lifecycle: Lifecycle): Middleware {
  return async function apiGateMiddleware(ctx, next) {
    if (!lifecycle.ready && isApiPath(ctx.path) && !ALWAYS.has(ctx.path)) {
      throw new HttpError(
        503,
        lifecycle.failure !== undefined
          ? STARTUP_FAILED
          : 'The server is starting (database migrations); retry shortly',
        { 'Retry-After': '1' },
      );
    }
    await next();
  };
}
