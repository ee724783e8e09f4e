import type { Middleware } from 'koa';
import type { ConfigStore } from '../../config/store.ts';
import type { Lifecycle } from '../services.ts';
import { isApiPath } from '../static/frontend.ts';

/** Re-reads saved settings when the cache is stale, so replicas sharing a database agree. */
export function configRefresh(config: ConfigStore, lifecycle: Lifecycle): Middleware {
  return async function configRefreshMiddleware(ctx, next) {
    if (lifecycle.ready && isApiPath(ctx.path)) await config.refreshIfStale();
    await next();
  };
}
