import type { Router } from '@koa/router';
import Koa, { type Middleware } from 'koa';
import type { UserRole } from '../contract/env.ts';
import { findUserById } from '../db/users.ts';
import { authenticate } from './auth/authenticate.ts';
import type { SessionAccount } from './auth/session-cache.ts';
import { apiGate } from './middleware/api-gate.ts';
import { apiNotFound } from './middleware/api-not-found.ts';
import { basePath } from './middleware/base-path.ts';
import { BodyBudget, bodyBudget, perUserBodyBytes } from './middleware/body-budget.ts';
import { configRefresh } from './middleware/config-refresh.ts';
import { corsFor } from './middleware/cors.ts';
import { crossSiteGuard } from './middleware/cross-site.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { requestId } from './middleware/request-id.ts';
import { QUIET, requestLog } from './middleware/request-log.ts';
import { requestTarget } from './middleware/request-target.ts';
import { RouteRegistry } from './openapi/registry.ts';
import { authsRouter } from './routes/auths.ts';
import { chatsRouter } from './routes/chats.ts';
import { healthRouter } from './routes/health.ts';
import { systemRouter } from './routes/system.ts';
import { usersRouter } from './routes/users.ts';
import type { Services } from './services.ts';
import { isApiPath, missingFrontendPage, serveFrontend } from './static/frontend.ts';
import type { AppState } from './types.ts';

export interface AppParts {
  /** Builds the /ollama proxy router (webui/src/server/ollama/router.ts), when available. */
  ollamaRouter?: (registry: RouteRegistry) => Router<AppState>;
  /** In --mode frontend: forwards /api, /ollama, /health* and /openapi.json to BACKEND_URL. */
  forward?: Middleware;
}

export interface BuiltApp {
  app: Koa<AppState>;
  registry: RouteRegistry;
  /** Every router mounted, for the OpenAPI completeness test. */
  routers: Router<AppState>[];
}

const FORWARDED = /^\/(api|ollama)(\/|$)|^\/health|^\/openapi\.json$/;

/**
 * The whole middleware chain, in order, in one place:
 *   request id → request log → base path (if WEBUI_BASE_PATH) → CORS (if configured) → errors →
 *   request target (a path, no NUL, dot segments resolved) → cross-site refusal (CSRF) →
 *   frontend mode: forward API paths to BACKEND_URL → /ready → static files;
 *   otherwise:     JSON 404 for unknown API paths → 503 until ready → saved-config refresh (Postgres) →
 *                  session (API paths) → per-user share of request bodies in flight →
 *                  routers (health, system, auths, users, chats, /ollama) → static frontend (mode all).
 */
export function createApp(svc: Services, parts: AppParts = {}): BuiltApp {
  const app = new Koa<AppState>();
  const registry = new RouteRegistry();
  const routers: Router<AppState>[] = [];

  app.use(requestId());
  // The frontend forwarder logs what it forwards at debug: the backend writes that request's line,
  // under the same X-Request-Id, and one line per request is what an operator reads (and what it costs).
  app.use(
    requestLog(svc.logger, (path) => QUIET.has(path) || (svc.mode === 'frontend' && FORWARDED.test(path))),
  );
  if (svc.env.basePath !== '') app.use(basePath(svc.env.basePath));
  const cors = corsFor(svc.env.corsAllowOrigin, svc.logger);
  if (cors) app.use(cors);
  app.use(errorHandler(svc.logger));
  app.use(requestTarget());
  app.use(crossSiteGuard({ allowedOrigins: svc.env.corsAllowOrigin }));

  if (svc.mode === 'frontend') {
    const forward = parts.forward;
    if (forward === undefined) throw new Error('--mode frontend needs the forwarder');
    app.use(async (ctx, next) => (FORWARDED.test(ctx.path) ? forward(ctx, next) : next()));
    app.use(healthRouter(svc, registry).routes());
    mountStatic(app, svc);
    return { app, registry, routers };
  }

  app.use(apiNotFound((path) => registry.methodsAt(path)));
  app.use(apiGate(svc.lifecycle));
  // Only a shared database changes behind this process's back (db/dialect.ts).
  if (svc.rereads.refreshAhead) app.use(configRefresh(svc.config, svc.lifecycle, svc.logger));
  // Only API calls look up the session: static assets and /health never touch the database.
  // The user is reused for up to a second (auth/session-cache.ts); this process's own changes apply at once.
  const loadUser = async (id: string): Promise<SessionAccount | undefined> => {
    if (svc.database() === undefined) return undefined;
    const u = await findUserById(svc.em(), id);
    if (u === null) return undefined;
    return { id: u.id, email: u.email, name: u.name, role: u.role as UserRole, tokenVersion: u.tokenVersion };
  };
  const auth = authenticate({
    secretKey: () => svc.secretKey,
    findUser: (id) => svc.sessionUsers.get(id, loadUser),
  });
  app.use(async (ctx, next) => (isApiPath(ctx.path) ? auth(ctx, next) : next()));
  app.use(bodyBudget(new BodyBudget(perUserBodyBytes(svc.env.ollamaProxyMaxBodyMib))));

  routers.push(
    healthRouter(svc, registry),
    systemRouter(svc, registry),
    authsRouter(svc, registry),
    usersRouter(svc, registry),
    chatsRouter(svc, registry),
  );
  if (parts.ollamaRouter) routers.push(parts.ollamaRouter(registry));
  for (const r of routers) app.use(r.routes());

  if (svc.mode === 'all') mountStatic(app, svc);
  return { app, registry, routers };
}

function mountStatic(app: Koa<AppState>, svc: Services): void {
  const fe = svc.frontend;
  if (fe === undefined) return;
  app.use(fe.present ? serveFrontend(fe.dir) : missingFrontendPage(fe.dir));
}
