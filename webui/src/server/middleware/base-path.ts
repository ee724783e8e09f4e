import type { Middleware } from 'koa';

/**
 * Serves the app under a path prefix that a reverse proxy or Ingress routes
 * without rewriting (WEBUI_BASE_PATH=/chat): /chat/x is handled as /x, and
 * the bare /chat redirects to /chat/ so the page's relative asset and API
 * URLs resolve under the prefix. Paths outside it (kubelet probes on the pod
 * port, direct access) are served unchanged.
 */
export function basePath(prefix: string): Middleware {
  return async function basePathMiddleware(ctx, next) {
    if (ctx.path === prefix && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.status = 308;
      ctx.redirect(`${prefix}/${ctx.querystring === '' ? '' : `?${ctx.querystring}`}`);
      return;
    }
    if (ctx.path.startsWith(`${prefix}/`)) ctx.path = ctx.path.slice(prefix.length);
    await next();
  };
}
