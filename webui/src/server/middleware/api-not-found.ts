import type { Middleware } from 'koa';
import { notFound } from '../http-error.ts';
import { isApiPath } from '../static/frontend.ts';

/** Unknown /api/* and /ollama/* paths get a JSON 404, never the SPA's index.html. */
export function apiNotFound(): Middleware {
  return async function apiNotFoundMiddleware(ctx, next) {
    await next();
    if (ctx.status === 404 && ctx.body === undefined && isApiPath(ctx.path)) throw notFound();
  };
}
