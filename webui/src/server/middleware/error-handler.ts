import type { Middleware } from 'koa';
import { ConfigError, type ConfigErrorKind } from '../../config/runtime-config.ts';
import { HttpError } from '../http-error.ts';

/** A refused settings change: a bad value is the client's error, a setting env owns is a conflict. */
const CONFIG_ERROR_STATUS: Record<ConfigErrorKind, number> = { invalid: 400, 'env-owned': 409 };

export interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/**
 * Turns thrown errors into `{"detail": "..."}`. HttpError keeps its status and
 * message; a ConfigError gets 400 or 409 with its message; Koa/http-errors
 * with `expose` keep theirs; anything else is a 500 whose cause is logged and
 * never sent to the client.
 */
export function errorHandler(logger: ErrorLogger): Middleware {
  return async function errorHandlerMiddleware(ctx, next) {
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.set(err.headers);
        ctx.body = { detail: err.message };
        return;
      }
      if (err instanceof ConfigError) {
        ctx.status = CONFIG_ERROR_STATUS[err.kind];
        ctx.body = { detail: err.message };
        return;
      }
      const e = err as { status?: unknown; expose?: unknown; message?: unknown };
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true) {
        ctx.status = e.status;
        ctx.body = { detail: String(e.message) };
        return;
      }
      logger.error({ err }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { detail: 'Internal Server Error' };
    }
  };
}
