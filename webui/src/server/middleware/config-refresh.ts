import type { Middleware } from 'koa';
import type { ConfigStore } from '../../config/store.ts';
import type { Lifecycle } from '../services.ts';
import { isApiPath } from '../static/frontend.ts';

/** Half the ConfigStore's 1 s lifetime of saved values. */
export const CONFIG_REFRESH_AHEAD_MS = 500;

/**
 * Re-reads saved settings when the cache is stale, so replicas sharing a
 * database agree within the store's lifetime (1 s). While requests keep
 * coming, it also re-reads them in the background every half lifetime, so
 * the read is rarely on a request's path; an idle server reads nothing.
 */
export function configRefresh(
  config: Pick<ConfigStore, 'load' | 'refreshIfStale'>,
  lifecycle: Lifecycle,
  logger: { warn(obj: object, msg: string): void },
  now: () => number = Date.now,
): Middleware {
  // Startup has just loaded the settings when the server turns ready.
  let lastRead = now();
  let reading = false;
  return async function configRefreshMiddleware(ctx, next) {
    if (lifecycle.ready && isApiPath(ctx.path)) {
      const t = now();
      const age = t - lastRead;
      if (age >= CONFIG_REFRESH_AHEAD_MS && age < 2 * CONFIG_REFRESH_AHEAD_MS && !reading) {
        reading = true;
        lastRead = t;
        // After this request's own work: SQLite reads block the event loop.
        setImmediate(() => {
          config
            .load()
            .catch((err: unknown) =>
              logger.warn(
                { err: err instanceof Error ? err.message : String(err) },
                'reading saved settings failed',
              ),
            )
            .finally(() => {
              reading = false;
            });
        });
      } else if (age >= 2 * CONFIG_REFRESH_AHEAD_MS) {
        lastRead = t;
      }
      // Stale (idle for a while, or the background read is slow): this request waits for fresh values.
      const stale = config.refreshIfStale();
      if (stale !== undefined) await stale;
    }
    await next();
  };
}
