import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { requireAdmin, requireSignedIn, requireVerified } from '../auth/guards.ts';
import { HttpError } from '../http-error.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import type { AppState } from '../types.ts';
import type { Access, Method, ResponseDoc, RouteRegistry } from './registry.ts';

export interface RouteSpec<B extends z.ZodType | undefined, R extends ResponseDoc = ResponseDoc> {
  method: Method;
  /** Path relative to the router's prefix. */
  path: string;
  summary: string;
  access: Access;
  body?: B;
  /** What a 200 carries; documented, and the handler's return type when it is JSON. */
  response: R;
  /** Largest accepted body in bytes (default: PUBLIC_BODY_LIMIT on public routes, else the body reader's, 1 MiB for API bodies). */
  bodyLimit?: number;
  /** Status for a body that fails the schema: 422 like Open WebUI, or 400. Overrides the binder's. */
  invalidStatus?: 400 | 422;
  /** Middleware run after the access guard and before the body is read (e.g. "this API is switched off"). */
  use?: readonly Middleware<AppState>[];
}

/** Reads a request body (JSON, within `limit` bytes when given) for the schema to check. */
export type BodyReader = (ctx: Context, limit?: number) => Promise<unknown>;

export interface BinderOptions {
  prefix: string;
  tag: string;
  /** How bodies are read; by default strictly as JSON of at most 1 MiB (`readJsonBody`). */
  readBody?: BodyReader;
  /** Status for a body that fails its schema, unless the route says otherwise (default 422). */
  invalidStatus?: 400 | 422;
  /** Mark answers `Cache-Control: no-store` unless the handler set its own (default true). */
  noStore?: boolean;
}

/**
 * Default body limit of public routes (sign-in, sign-up): anonymous requests
 * have no per-user share of bodies in flight (middleware/body-budget.ts), so
 * a small limit is what bounds their memory. A sign-up with its largest
 * picture URL (100,000 characters) fits.
 */
export const PUBLIC_BODY_LIMIT = 256 * 1024;

/** A handler's result: the documented JSON (or nothing, when it answered itself); anything for a streamed-only route. */
export type ResultOf<R extends ResponseDoc> = R extends { json: infer J extends z.ZodType }
  ? z.input<J> | undefined
  : unknown;

export type Handler<B extends z.ZodType | undefined, R extends ResponseDoc = ResponseDoc> = (
  ctx: Context & { state: AppState },
  body: B extends z.ZodType ? z.output<B> : undefined,
) => Promise<ResultOf<R>>;

const GUARDS: Record<Access, (() => Middleware<AppState>) | undefined> = {
  public: undefined,
  signedIn: requireSignedIn,
  verified: requireVerified,
  admin: requireAdmin,
};

/** `email: Invalid email address; password: Required`: the detail of every 400/422 for a bad body. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * Binds routes to a Koa router and records each in the registry, so the
 * guard, the body schema and the OpenAPI entry come from one declaration.
 * The handler's return value becomes the JSON body.
 */
export function routeBinder(router: Router<AppState>, registry: RouteRegistry, opts: BinderOptions) {
  const readBody = opts.readBody ?? readJsonBody;
  const noStore = opts.noStore ?? true;
  return function route<B extends z.ZodType | undefined = undefined, R extends ResponseDoc = ResponseDoc>(
    spec: RouteSpec<B, R>,
    handler: Handler<B, R>,
  ): void {
    const guard = GUARDS[spec.access];
    const invalidStatus = spec.invalidStatus ?? opts.invalidStatus ?? 422;
    const bodyLimit = spec.bodyLimit ?? (spec.access === 'public' ? PUBLIC_BODY_LIMIT : undefined);
    const run: Middleware<AppState> = async (ctx) => {
      let body: unknown;
      if (spec.body) {
        const parsed = spec.body.safeParse(await readBody(ctx, bodyLimit));
        if (!parsed.success) throw new HttpError(invalidStatus, describeIssues(parsed.error));
        body = parsed.data;
      }
      const result = await handler(ctx, body as Parameters<Handler<B, R>>[1]);
      if (result !== undefined) ctx.body = result;
      // API answers carry sessions and settings: never cache them.
      if (noStore && !ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
    };
    const chain = [...(guard ? [guard()] : []), ...(spec.use ?? []), run];
    router[spec.method](spec.path, ...chain);
    // Record the path as Koa stores it (a prefix plus '/' becomes the bare prefix; both URLs are served).
    const layer = router.stack[router.stack.length - 1];
    registry.add({
      method: spec.method,
      path: typeof layer?.path === 'string' ? layer.path : `${opts.prefix}${spec.path}`,
      summary: spec.summary,
      access: spec.access,
      tag: opts.tag,
      response: spec.response,
      ...(spec.body ? { body: spec.body } : {}),
    });
  };
}

/** The `route` function routeBinder returns, for modules that add routes to another's router. */
export type BindRoute = ReturnType<typeof routeBinder>;
