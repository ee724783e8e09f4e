import type { Middleware } from 'koa';
import { flatLineLogger, type Logger } from '../logger.ts';

const QUIET = new Set(['/health', '/ready', '/health/db']);

/**
 * One line per request with method, path (never the query string, which can
 * carry tokens), status and duration. Headers and bodies are never logged,
 * so passwords, tokens, cookies and keys cannot end up here.
 */
export function requestLog(parent: Logger): Middleware {
  const logger = flatLineLogger(parent);
  return async function requestLogMiddleware(ctx, next) {
    const start = performance.now();
    try {
      await next();
    } finally {
      const line = {
        reqId: ctx.state.requestId as string | undefined,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - start) * 10) / 10,
        userId: (ctx.state.user as { id?: string } | undefined)?.id,
      };
      if (QUIET.has(ctx.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
