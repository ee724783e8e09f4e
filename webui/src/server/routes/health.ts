import { Router } from '@koa/router';
import { z } from 'zod';
import { HttpError } from '../http-error.ts';
import { STARTUP_FAILED } from '../middleware/api-gate.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { StatusTrue } from '../openapi/responses.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Lifecycle, Services } from '../services.ts';
import type { AppState } from '../types.ts';

const FrontendHealth = z.object({
  served: z.boolean(),
  present: z.boolean().optional(),
  dir: z.string().optional(),
  hint: z.string().optional(),
});
const Liveness = z.object({ status: z.literal(true), frontend: FrontendHealth });

/** What /health says about the static frontend in this mode. */
export function frontendHealth(svc: Pick<Services, 'mode' | 'frontend'>): z.infer<typeof FrontendHealth> {
  if (svc.mode === 'api' || svc.frontend === undefined) return { served: false };
  return svc.frontend.present
    ? { served: true, present: true }
    : { served: true, present: false, dir: svc.frontend.dir, hint: 'run `make frontend` to build it' };
}

/** Why the server is not ready, in words for anyone: a startup failure's cause is in the log. */
function readinessDetail(lifecycle: Lifecycle): string {
  if (lifecycle.stopping) return 'Shutting down';
  return lifecycle.failure !== undefined ? STARTUP_FAILED : 'Startup not complete';
}

/**
 * /health is liveness and never touches the database; /health/db does;
 * /ready is 503 until migrations and any config reset are done.
 */
export function healthRouter(svc: Services, registry: RouteRegistry): Router<AppState> {
  const router = new Router<AppState>();
  const route = routeBinder(router, registry, { prefix: '', tag: 'health' });

  route(
    {
      method: 'get',
      path: '/health',
      summary: 'Liveness (no database access)',
      access: 'public',
      response: { json: Liveness },
    },
    async () => ({
      status: true as const,
      frontend: frontendHealth(svc),
    }),
  );

  route(
    {
      method: 'get',
      path: '/health/db',
      summary: 'Database check (503 when it does not answer)',
      access: 'public',
      response: { json: StatusTrue },
    },
    async () => {
      const db = svc.database();
      if (db === undefined) throw new HttpError(503, 'Database not ready');
      try {
        await db.ping();
      } catch (err) {
        // Public: the cause names the database's address (connect ECONNREFUSED host:port); the log keeps it.
        svc.logger.warn(
          { reason: err instanceof Error ? err.message : String(err) },
          'database check failed',
        );
        throw new HttpError(503, 'Database unreachable');
      }
      return { status: true as const };
    },
  );

  route(
    {
      method: 'get',
      path: '/ready',
      summary: 'Readiness: 503 until migrations and config reset are done',
      access: 'public',
      response: { json: StatusTrue },
    },
    async () => {
      if (svc.lifecycle.ready && !svc.lifecycle.stopping) return { status: true as const };
      throw new HttpError(503, readinessDetail(svc.lifecycle));
    },
  );

  return router;
}
