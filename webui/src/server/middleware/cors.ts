import cors from '@koa/cors';
import type { Middleware } from 'koa';
import { settings } from '../../contract/env.ts';
import type { Logger } from '../logger.ts';

/**
 * CORS_ALLOW_ORIGIN:
 * - empty: no CORS at all (undefined), same-origin only;
 * - `*`: any origin, never with credentials, and a warning;
 * - a list: exactly those origins, with credentials.
 */
export function corsFor(origins: readonly string[], logger: Logger): Middleware | undefined {
  if (origins.length === 0) return undefined;
  if (origins.includes('*')) {
    logger.warn(
      `${settings.corsAllowOrigin.env}=* lets any website call this API (without cookies); list the origins you need instead`,
    );
    return cors({ origin: '*', credentials: false });
  }
  const allowed = new Set(origins);
  return cors({
    // An empty string tells @koa/cors to send no CORS headers for this origin.
    origin: (ctx) => (allowed.has(ctx.get('origin')) ? ctx.get('origin') : ''),
    credentials: true,
    exposeHeaders: ['X-Request-Id', 'Retry-After'],
  });
}
