import type { Middleware } from 'koa';
import type { AppState } from '../types.ts';

const MiB = 1024 * 1024;

/** What one request may take from its user's share of request-body bytes in flight. */
export interface BodyAllowance {
  /** The user's share, in bytes. */
  readonly perUserBytes: number;
  /** Takes `bytes` from the share; false (and nothing taken) when that would exceed it. */
  take(bytes: number): boolean;
}

/**
 * How many request-body bytes each signed-in user may have in flight at once:
 * being read, parsed, checked and sent on. A body costs several times its size
 * while it is handled (buffer, text, parsed value, the JSON sent upstream), so
 * one account sending many large bodies at once could exhaust the process's
 * memory (issue 14: 14 × 57 MiB took the server from 150 MB to 5 GB). The body
 * readers take from the share (middleware/json-body.ts); it is given back when
 * the request's handler has finished, by which time the buffers are garbage.
 */
export class BodyBudget {
  readonly perUserBytes: number;
  readonly #inFlight = new Map<string, number>();

  constructor(perUserBytes: number) {
    this.perUserBytes = perUserBytes;
  }

  /** Bytes the user has in flight now. */
  inFlight(userId: string): number {
    return this.#inFlight.get(userId) ?? 0;
  }

  /** A request's allowance from its user's share; `close()` gives back everything it took. */
  lease(userId: string): BodyLease {
    return new BodyLease(this, userId);
  }

  /** Moves `delta` bytes into (or, negative, out of) the user's count; false if that would pass the share. */
  adjust(userId: string, delta: number): boolean {
    const next = this.inFlight(userId) + delta;
    if (delta > 0 && next > this.perUserBytes) return false;
    if (next > 0) this.#inFlight.set(userId, next);
    else this.#inFlight.delete(userId);
    return true;
  }
}

/** One request's part of its user's share (a class, not closures: one small object per request). */
export class BodyLease implements BodyAllowance {
  readonly #budget: BodyBudget;
  readonly #userId: string;
  #taken = 0;

  constructor(budget: BodyBudget, userId: string) {
    this.#budget = budget;
    this.#userId = userId;
  }

  get perUserBytes(): number {
    return this.#budget.perUserBytes;
  }

  take(bytes: number): boolean {
    if (!this.#budget.adjust(this.#userId, bytes)) return false;
    this.#taken += bytes;
    return true;
  }

  close(): void {
    if (this.#taken === 0) return;
    this.#budget.adjust(this.#userId, -this.#taken);
    this.#taken = 0;
  }
}

/**
 * A user's share: two of the largest /ollama bodies (OLLAMA_PROXY_MAX_BODY_MIB)
 * and at least 16 MiB, the largest chat an API route accepts, so the app's own
 * calls (a chat request while the previous chat is saved) always fit.
 */
export function perUserBodyBytes(proxyMaxBodyMib: number): number {
  return Math.max(16 * MiB, 2 * proxyMaxBodyMib * MiB);
}

/**
 * Gives each request from a signed-in user an allowance of its user's share
 * that carries a body (ctx.state.bodyAllowance) and takes everything back
 * when the request's handler is done. Anonymous requests get none: the routes
 * they may post to have small bodies (openapi/route.ts).
 */
export function bodyBudget(budget: BodyBudget): Middleware<AppState> {
  return async function bodyBudgetMiddleware(ctx, next) {
    const user = ctx.state.user;
    const headers = ctx.req.headers;
    const hasBody =
      (headers['content-length'] !== undefined && headers['content-length'] !== '0') ||
      headers['transfer-encoding'] !== undefined;
    if (user === undefined || !hasBody) return next();
    const lease = budget.lease(user.id);
    ctx.state.bodyAllowance = lease;
    try {
      await next();
    } finally {
      lease.close();
    }
  };
}
