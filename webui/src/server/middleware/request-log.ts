import type { Middleware } from 'koa';
import { flatLineLogger, type Logger } from '../logger.ts';

/** Probes, polled every few seconds: logged at debug only. */
export const QUIET = new Set(['/health', '/ready', '/health/db']);

/**
 * One line per request with method, path (never the query string, which can
 * carry tokens), status and duration. Headers and bodies are never logged,
 * so passwords, tokens, cookies and keys cannot end up here.
 *
 * The line is written when the response is over, sent or cut off, and not
 * when the middleware chain returns: stdout is written synchronously, and
 * the chain returns before Koa sends a JSON answer and before a relayed
 * stream's first chunk, so a write there sat on every request's time to
 * first byte (docs/benchmarks.md). `ms` is therefore the whole exchange, a
 * streamed answer included, and `aborted` marks a response the client did
 * not receive to its end.
 */
export function requestLog(
  parent: Logger,
  /** Paths logged at debug only: probes, and in --mode frontend what the backend logs itself. */
  quiet: (path: string) => boolean = (path) => QUIET.has(path),
): Middleware {
  const logger = flatLineLogger(parent);
  return function requestLogMiddleware(ctx, next) {
    const start = performance.now();
    const res = ctx.res;
    res.once('close', () => {
      const line = {
        reqId: ctx.state.requestId as string | undefined,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - start) * 10) / 10,
        userId: (ctx.state.user as { id?: string } | undefined)?.id,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (quiet(ctx.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    return next();
  };
}
