import type { Middleware } from 'koa';
import { HttpError, notFound } from '../http-error.ts';
import { isApiPath } from '../static/frontend.ts';

/** The methods served at a path (upper case, HEAD with GET); empty for an unknown path. */
export type MethodsAt = (path: string) => readonly string[];

/**
 * What no route answered: a known path asked with a method it does not serve
 * is 405 with `Allow` (RFC 9110), and an unknown /api/* or /ollama/* path is
 * a JSON 404, never the SPA's index.html.
 */
export function apiNotFound(methodsAt: MethodsAt): Middleware {
  return async function apiNotFoundMiddleware(ctx, next) {
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined) return;
    const allowed = methodsAt(ctx.path);
    if (allowed.length > 0 && !allowed.includes(ctx.method)) {
      throw new HttpError(405, 'Method Not Allowed', { Allow: allowed.join(', ') });
    }
    if (isApiPath(ctx.path)) throw notFound();
  };
}
