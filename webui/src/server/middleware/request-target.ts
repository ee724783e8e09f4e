import type { Middleware } from 'koa';
import { hasEncodedNul, isNormalisedPath, isOriginForm, normalisePath } from '../http/request-target.ts';
import { HttpError } from '../http-error.ts';

/**
 * Makes the request target what every later middleware assumes:
 * - a path (origin-form): an absolute-form target (`GET http://host/x`) is 400;
 * - no NUL (`%00`) in the path or query, 400: path parameters reach SQL,
 *   where MikroORM inlines values and NUL ends the statement;
 * - dot segments resolved (`/api/../ready` is `/ready`), so the path is
 *   routed, forwarded and served as the one thing it names.
 */
export function requestTarget(): Middleware {
  // Not async: on every request, a plain function that returns next() allocates no promise of its own.
  return function requestTargetMiddleware(ctx, next) {
    const target = ctx.req.url ?? '';
    if (!isOriginForm(target)) {
      throw new HttpError(400, 'The request target must be a path (origin-form), not an absolute URL', {
        Connection: 'close',
      });
    }
    if (hasEncodedNul(target))
      throw new HttpError(400, 'The request path or query contains a NUL character (%00)');
    if (!isNormalisedPath(ctx.path)) ctx.path = normalisePath(ctx.path);
    return next();
  };
}
