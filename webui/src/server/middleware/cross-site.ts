import type { Context, Middleware } from 'koa';
import { HttpError } from '../http-error.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CrossSiteOptions {
  /** CORS_ALLOW_ORIGIN: origins whose pages may call with the session cookie; `*` for any, without it. */
  allowedOrigins: readonly string[];
}

const REFUSED =
  'Refused a cross-site request: state-changing calls are accepted only from pages of this server ' +
  '(or of an origin listed in CORS_ALLOW_ORIGIN)';

/** Whether `origin` (scheme://host:port) names one of `hosts` (Host, X-Forwarded-Host). */
function sameHost(origin: string, hosts: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    // `null` (sandboxed frames, some redirects) and anything else unparseable.
    return false;
  }
  return hosts.some((h) => h !== '' && h.trim().toLowerCase() === host);
}

/**
 * Whether the browser sent this request on behalf of another site's page: by
 * `Sec-Fetch-Site` (every current browser sends it), else by `Origin` against
 * the Host the client asked for (behind a proxy, X-Forwarded-Host); with
 * neither, the client is not a browser, and no ambient cookie was borrowed.
 */
export function isCrossSite(ctx: Pick<Context, 'get'>): boolean {
  const site = ctx.get('sec-fetch-site').toLowerCase();
  if (site !== '') return site !== 'same-origin' && site !== 'none';
  const origin = ctx.get('origin');
  if (origin === '') return false;
  return !sameHost(origin, [ctx.get('host'), ...ctx.get('x-forwarded-host').split(',')]);
}

/**
 * Refuses unsafe methods (POST, PUT, PATCH, DELETE) that a browser sends from
 * another site's page with this site's cookie (CSRF), the way current
 * frameworks do (Go's net/http CrossOriginProtection): 403 when the request is
 * cross-site, unless its Origin is listed in CORS_ALLOW_ORIGIN, or
 * CORS_ALLOW_ORIGIN is `*` and the request carries no cookie at all (such
 * callers authenticate with a bearer token their page holds, which a forger
 * does not have). SameSite=Lax alone does not cover this: a page on another
 * port or subdomain of the same site still gets the cookie sent.
 */
export function crossSiteGuard(opts: CrossSiteOptions): Middleware {
  const listed = new Set(opts.allowedOrigins.filter((o) => o !== '*'));
  const anyWithoutCookie = opts.allowedOrigins.includes('*');
  // Not async: on every request, a plain function that returns next() allocates no promise of its own.
  return function crossSiteGuardMiddleware(ctx, next) {
    if (SAFE_METHODS.has(ctx.method) || !isCrossSite(ctx)) return next();
    if (listed.has(ctx.get('origin'))) return next();
    if (anyWithoutCookie && ctx.get('cookie') === '') return next();
    throw new HttpError(403, REFUSED);
  };
}
