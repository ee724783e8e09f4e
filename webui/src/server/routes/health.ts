import { Router } from '@koa/router';
import { STARTUP_FAILED } from '../middleware/api-gate.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Lifecycle, Services } from '../services.ts';
import type { AppState } from '../types.ts';

/** What /health says about the static frontend in this mode. */
export function frontendHealth(svc: Pick<Services, 'mode' | 'frontend'>) {
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
    { method: 'get', path: '/health', summary: 'Liveness (no database access)', access: 'public' },
    async () => ({
      status: true,
      frontend: frontendHealth(svc),
    }),
  );

  route({ method: 'get', path: '/health/db', summary: 'Database check', access: 'public' }, async (ctx) => {
    const db = svc.database();
    if (db === undefined) {
      ctx.status = 503;
      return { detail: 'Database not ready' };
    }
    try {
      await db.ping();
      return { status: true };
    } catch (err) {
      // Public: the cause names the database's address (connect ECONNREFUSED host:port); the log keeps it.
      svc.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'database check failed');
      ctx.status = 503;
      return { detail: 'Database unreachable' };
    }
  });

  route(
    {
      method: 'get',
      path: '/ready',
      summary: 'Readiness: 503 until migrations and config reset are done',
      access: 'public',
    },
    async (ctx) => {
      if (svc.lifecycle.ready && !svc.lifecycle.stopping) return { status: true };
      ctx.status = 503;
      return { detail: readinessDetail(svc.lifecycle) };
    },
  );

  return router;
}
