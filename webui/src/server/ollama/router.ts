import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { RuntimeConfig } from '../../config/runtime-config.ts';
import { HttpError } from '../http-error.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { type Handler, routeBinder } from '../openapi/route.ts';
import type { AppState } from '../types.ts';
import { ConnectionChoice } from './connection-choice.ts';
import { connectionModels } from './connection-models.ts';
import { inferenceHandlers } from './handlers/inference.ts';
import { modelAdminHandlers } from './handlers/model-admin.ts';
import { modelListHandlers } from './handlers/model-lists.ts';
import { settingsHandlers } from './handlers/settings.ts';
import type { Whereabouts } from './loopback-hint.ts';
import { ModelRegistry } from './model-registry.ts';
import { readProxyBody } from './request-body.ts';
import { OLLAMA_PREFIX, OLLAMA_ROUTES, type OllamaHandlers, type RouteId } from './route-table.ts';
import { UpstreamCalls } from './upstream-calls.ts';

const MiB = 1024 * 1024;

/**
 * The /ollama reverse proxy to one or more Ollama servers (Open WebUI's route
 * table, route-table.ts), declared through the same binder as the rest of the
 * API, so each route's guard, body schema and OpenAPI entry come from one row.
 * Mount after the auth middleware, which puts the user on ctx.state.user.
 * Connections and timeouts are read from `config` on every request, so admin
 * changes apply at once.
 */
export function createOllamaRouter(deps: {
  config: RuntimeConfig;
  logger: Logger;
  /** Where the routes are recorded for /openapi.json. */
  registry: RouteRegistry;
  /** Where this server runs (host, container, pod) and its port: the advice for a loopback URL depends on it. */
  where: Whereabouts;
}): Router<AppState> {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'ollama-proxy' });
  const calls = new UpstreamCalls(config, logger, deps.where);
  const registry = new ModelRegistry(async (conn) => {
    // Shared by many requests, so no one client's disconnect may cancel it.
    const tags = await calls.listing(conn, '/api/tags', new AbortController().signal);
    return { models: connectionModels(conn, (tags as { models?: unknown } | null)?.models) };
  }, logger);
  const choice = new ConnectionChoice(config, registry);

  const handlers: OllamaHandlers<RouteId> = {
    ...settingsHandlers({ config, registry, calls }),
    ...modelListHandlers({ config, registry, calls }),
    ...inferenceHandlers({ choice, calls }),
    ...modelAdminHandlers({ config, registry, choice, calls }),
  };

  const ollamaEnabled: Middleware<AppState> = async (_ctx, next) => {
    if (!config.get('enableOllamaApi')) {
      throw new HttpError(
        503,
        'The Ollama API is disabled (ENABLE_OLLAMA_API=false). An admin can enable it in Admin Settings > Connections or with POST /ollama/config/update.',
      );
    }
    await next();
  };

  const router = new Router<AppState>({ prefix: OLLAMA_PREFIX });
  // Ollama answers a bad body with 400, and its bodies are larger than the API's (base64 images):
  // OLLAMA_PROXY_MAX_BODY_MIB, read per request. Answers are `no-store`, relayed ones too (relay.ts).
  const route = routeBinder(router, deps.registry, {
    prefix: OLLAMA_PREFIX,
    tag: 'ollama',
    readBody: (ctx, limit) => readProxyBody(ctx, limit ?? config.get('ollamaProxyMaxBodyMib') * MiB),
    invalidStatus: 400,
  });
  for (const r of OLLAMA_ROUTES) {
    // The table pairs each id with its schema; TypeScript cannot follow that pairing through a loop.
    const handler = handlers[r.id] as Handler<z.ZodType | undefined>;
    route(
      {
        method: r.method,
        path: r.path,
        summary: r.summary,
        access: r.access,
        response: r.response,
        ...(r.body !== undefined ? { body: r.body } : {}),
        // Auth first (anonymous stays 401), then "switched off".
        ...(r.proxied ? { use: [ollamaEnabled] } : {}),
      },
      handler,
    );
  }
  return router;
}
