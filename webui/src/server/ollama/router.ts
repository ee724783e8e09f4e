import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { settings } from '../../contract/env.ts';
import { requireAdmin, requireVerified } from '../auth/guards.ts';
import { badRequest, HttpError } from '../http-error.ts';
import type { Access, RouteDoc } from '../openapi/registry.ts';
import type { AppState, RuntimeConfig } from '../types.ts';
import { updateOllamaConfig, viewOllamaConfig } from './config-routes.ts';
import { connectionModels, upstreamModelName } from './connection-models.ts';
import {
  type Connection,
  connectionAt,
  currentConnections,
  modelListTimeouts,
  requestTimeouts,
  upstreamHeaders,
} from './connections.ts';
import {
  type MergedModel,
  ModelRegistry,
  normalizeModelName,
  type UpstreamProblem,
} from './model-registry.ts';
import { fetchUpstreamJson, type RelayOptions, relay, toHttpError } from './relay.ts';
import { parseBody } from './request-body.ts';
import {
  chatBody,
  configUpdateBody,
  copyBody,
  embedBody,
  embeddingsBody,
  generateBody,
  namedModelBody,
  openaiChatBody,
  openaiCompletionBody,
  verifyBody,
} from './schemas.ts';
import { withoutCredentials } from './upstream-errors.ts';
import { callUpstream, type UpstreamTimeouts } from './upstream-request.ts';

type Ctx = Context & { state: AppState };

/** One /ollama route: the single source for the router, its guard and the OpenAPI entry. */
interface RouteDef {
  id: RouteId;
  method: 'get' | 'post' | 'delete';
  /** Relative to /ollama, Koa syntax. */
  path: string;
  access: Access;
  summary: string;
  body?: z.ZodType;
  /** Answered only while ENABLE_OLLAMA_API is on. */
  proxied: boolean;
}

type RouteId =
  | 'status'
  | 'config'
  | 'configUpdate'
  | 'verify'
  | 'tags'
  | 'version'
  | 'ps'
  | 'chat'
  | 'generate'
  | 'show'
  | 'embed'
  | 'embeddings'
  | 'pull'
  | 'create'
  | 'delete'
  | 'copy'
  | 'openaiChat'
  | 'openaiCompletions'
  | 'openaiModels'
  | 'unload'
  | 'push';

/** Routes that also exist as `<path>/:url_idx`, targeting one connection. */
const WITH_IDX = new Set<RouteId>([
  'tags',
  'version',
  'chat',
  'generate',
  'embed',
  'embeddings',
  'pull',
  'create',
  'delete',
  'copy',
  'openaiChat',
  'openaiCompletions',
  'openaiModels',
  'push',
]);

const BASE_ROUTES: Omit<RouteDef, 'proxied'>[] = [
  { id: 'status', method: 'get', path: '/', access: 'public', summary: 'Proxy status: {"status": true}' },
  {
    id: 'config',
    method: 'get',
    path: '/config',
    access: 'admin',
    summary: 'Ollama connection settings (keys masked) and which of them the deployment manages',
  },
  {
    id: 'configUpdate',
    method: 'post',
    path: '/config/update',
    access: 'admin',
    summary: 'Change ENABLE_OLLAMA_API, OLLAMA_BASE_URLS, OLLAMA_API_CONFIGS (409 for managed settings)',
    body: configUpdateBody,
  },
  {
    id: 'verify',
    method: 'post',
    path: '/verify',
    access: 'admin',
    summary: 'Check that an Ollama URL answers GET /api/version',
    body: verifyBody,
  },
  {
    id: 'tags',
    method: 'get',
    path: '/api/tags',
    access: 'verified',
    summary: 'Models merged across connections, each with urls: [url_idx...]; unreachable ones in errors',
  },
  {
    id: 'version',
    method: 'get',
    path: '/api/version',
    access: 'public',
    summary: 'Lowest Ollama version across connections',
  },
  {
    id: 'ps',
    method: 'get',
    path: '/api/ps',
    access: 'verified',
    summary: 'Loaded models merged across connections',
  },
  {
    id: 'chat',
    method: 'post',
    path: '/api/chat',
    access: 'verified',
    summary: 'Chat; streamed NDJSON unless stream is false',
    body: chatBody,
  },
  {
    id: 'generate',
    method: 'post',
    path: '/api/generate',
    access: 'verified',
    summary: 'Completion; streamed NDJSON unless stream is false',
    body: generateBody,
  },
  {
    id: 'show',
    method: 'post',
    path: '/api/show',
    access: 'verified',
    summary: 'Model details',
    body: namedModelBody,
  },
  {
    id: 'embed',
    method: 'post',
    path: '/api/embed',
    access: 'verified',
    summary: 'Embeddings',
    body: embedBody,
  },
  {
    id: 'embeddings',
    method: 'post',
    path: '/api/embeddings',
    access: 'verified',
    summary: 'Embeddings (legacy API)',
    body: embeddingsBody,
  },
  {
    id: 'pull',
    method: 'post',
    path: '/api/pull',
    access: 'admin',
    summary: 'Pull a model (default connection 0); streamed progress',
    body: namedModelBody,
  },
  {
    id: 'create',
    method: 'post',
    path: '/api/create',
    access: 'admin',
    summary: 'Create a model (default connection 0); streamed progress',
    body: namedModelBody,
  },
  {
    id: 'delete',
    method: 'delete',
    path: '/api/delete',
    access: 'admin',
    summary: 'Delete a model; returns true',
    body: namedModelBody,
  },
  {
    id: 'copy',
    method: 'post',
    path: '/api/copy',
    access: 'admin',
    summary: 'Copy a model; returns true',
    body: copyBody,
  },
  {
    id: 'openaiChat',
    method: 'post',
    path: '/v1/chat/completions',
    access: 'verified',
    summary: 'OpenAI-compatible chat completions (SSE when stream is true)',
    body: openaiChatBody,
  },
  {
    id: 'openaiCompletions',
    method: 'post',
    path: '/v1/completions',
    access: 'verified',
    summary: 'OpenAI-compatible (legacy) text completions (SSE when stream is true)',
    body: openaiCompletionBody,
  },
  {
    id: 'openaiModels',
    method: 'get',
    path: '/v1/models',
    access: 'verified',
    summary: 'OpenAI-compatible model list',
  },
  {
    id: 'unload',
    method: 'post',
    path: '/api/unload',
    access: 'admin',
    summary: 'Unload a model from memory on every connection that has it (keep_alive 0); {"status": true}',
    body: namedModelBody,
  },
  {
    id: 'push',
    method: 'delete',
    path: '/api/push',
    access: 'admin',
    summary:
      'Push a model to a registry (default connection 0); streamed progress. DELETE, as Open WebUI registers it',
    body: namedModelBody,
  },
  {
    id: 'push',
    method: 'post',
    path: '/api/push',
    access: 'admin',
    summary: 'Push a model to a registry (default connection 0); streamed progress',
    body: namedModelBody,
  },
];

const NOT_PROXIED = new Set<RouteId>(['status', 'config', 'configUpdate', 'verify']);

/** Every /ollama route, `{url_idx}` variants included. */
export const OLLAMA_ROUTES: readonly RouteDef[] = BASE_ROUTES.flatMap((r) => {
  const def: RouteDef = { ...r, proxied: !NOT_PROXIED.has(r.id) };
  return WITH_IDX.has(r.id)
    ? [def, { ...def, path: `${r.path}/:url_idx`, summary: `${r.summary}; one connection by url_idx` }]
    : [def];
});

export const OLLAMA_PREFIX = '/ollama';

/** The routes for /openapi.json (full paths, Koa syntax, with the body schemas that validate them). */
export const ollamaRouteDocs: readonly RouteDoc[] = OLLAMA_ROUTES.map((r) => ({
  method: r.method,
  // Koa's router registers the prefix root as `/ollama`.
  path: r.path === '/' ? OLLAMA_PREFIX : `${OLLAMA_PREFIX}${r.path}`,
  summary: r.summary,
  access: r.access,
  tag: 'ollama',
  ...(r.body !== undefined ? { body: r.body } : {}),
}));

const GUARD: Record<Access, Middleware<AppState> | undefined> = {
  public: undefined,
  signedIn: undefined,
  verified: requireVerified(),
  admin: requireAdmin(),
};

/**
 * The /ollama reverse proxy to one or more Ollama servers (Open WebUI's route
 * table). Mount after the auth middleware, which puts the user on
 * ctx.state.user. Connections and timeouts are read from `config` on every
 * request, so admin changes apply at once.
 */
export function createOllamaRouter(deps: { config: RuntimeConfig; logger: Logger }): Router<AppState> {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'ollama-proxy' });
  const registry = new ModelRegistry(async (conn) => {
    const tags = await fetchUpstreamJson(
      getCall(conn, '/api/tags', modelListTimeouts(config), new AbortController().signal),
    );
    return { models: connectionModels(conn, (tags as { models?: unknown } | null)?.models) };
  }, logger);

  const ollamaEnabled: Middleware<AppState> = async (_ctx, next) => {
    if (!config.get('enableOllamaApi')) {
      throw new HttpError(
        503,
        'The Ollama API is disabled (ENABLE_OLLAMA_API=false). An admin can enable it in Admin Settings > Connections or with POST /ollama/config/update.',
      );
    }
    await next();
  };

  const handlers: Record<RouteId, (ctx: Ctx) => Promise<void>> = {
    async status(ctx) {
      ctx.body = { status: true };
    },
    async config(ctx) {
      ctx.body = viewOllamaConfig(config);
    },
    async configUpdate(ctx) {
      const body = await parseBody(ctx, configUpdateBody);
      ctx.body = await updateOllamaConfig(config, body);
      registry.invalidate();
    },
    async verify(ctx) {
      const body = await parseBody(ctx, verifyBody);
      let url: string;
      try {
        url = settings.ollamaBaseUrl.parse(body.url);
      } catch (e) {
        throw badRequest(`url: ${(e as Error).message}`);
      }
      const conn: Connection = { idx: -1, url, enabled: true };
      if (body.key !== undefined && body.key !== '') conn.key = body.key;
      ctx.body = await fetchUpstreamJson(
        getCall(conn, '/api/version', modelListTimeouts(config), clientSignal(ctx)),
      );
    },

    async tags(ctx) {
      const conns = currentConnections(config);
      if (ctx.params.url_idx !== undefined) {
        const conn = connectionAt(conns, ctx.params.url_idx);
        ctx.body = await fetchUpstreamJson(
          getCall(conn, '/api/tags', modelListTimeouts(config), clientSignal(ctx)),
        );
        return;
      }
      const merged = await registry.merged(conns, true);
      failIfNothingAnswered(conns, merged.errors);
      ctx.body = merged;
    },
    async version(ctx) {
      const conns = currentConnections(config);
      if (ctx.params.url_idx !== undefined) {
        const conn = connectionAt(conns, ctx.params.url_idx);
        ctx.body = await fetchUpstreamJson(
          getCall(conn, '/api/version', modelListTimeouts(config), clientSignal(ctx)),
        );
        return;
      }
      const { values, errors } = await fromEach(conns, '/api/version', ctx);
      // This route is open: anonymous callers learn neither the upstream URLs nor the failures.
      if (ctx.state.user === undefined && errors.length > 0 && values.length === 0) {
        throw new HttpError(502, 'No Ollama server answered; sign in as an admin for details');
      }
      failIfNothingAnswered(conns, errors);
      const versions = values
        .map((v) => (v.value as { version?: unknown } | null)?.version)
        .filter((v): v is string => typeof v === 'string');
      ctx.body = { version: versions.sort(compareVersions)[0] ?? null };
    },
    async ps(ctx) {
      const conns = currentConnections(config);
      const { values, errors } = await fromEach(conns, '/api/ps', ctx);
      failIfNothingAnswered(conns, errors);
      const byName = new Map<string, MergedModel>();
      for (const { idx, value } of values) {
        const conn = conns[idx];
        const listed = (value as { models?: unknown } | null)?.models;
        const models = conn ? connectionModels(conn, listed) : listed;
        if (!Array.isArray(models)) continue;
        for (const m of models as Record<string, unknown>[]) {
          const name = String(m.model ?? m.name ?? '');
          const seen = byName.get(name);
          if (seen === undefined)
            byName.set(name, { ...m, name: String(m.name ?? name), model: name, urls: [idx] });
          else seen.urls.push(idx);
        }
      }
      ctx.body = { models: [...byName.values()], errors };
    },

    async chat(ctx) {
      const body = await parseBody(ctx, chatBody);
      const streaming = body.stream !== false;
      await proxyModelCall(ctx, '/api/chat', { ...body, model: normalizeModelName(body.model) }, body.model, {
        streaming,
        errorFormat: 'ndjson',
        ...(streaming ? { contentType: 'application/x-ndjson' } : {}),
      });
    },
    async generate(ctx) {
      const body = await parseBody(ctx, generateBody);
      await proxyModelCall(
        ctx,
        '/api/generate',
        { ...body, model: normalizeModelName(body.model) },
        body.model,
        {
          streaming: body.stream !== false,
          errorFormat: 'ndjson',
        },
      );
    },
    async show(ctx) {
      const body = await parseBody(ctx, namedModelBody);
      const model = (body.model ?? body.name) as string;
      await proxyModelCall(ctx, '/api/show', body, model, { streaming: false, errorFormat: 'ndjson' });
    },
    async embed(ctx) {
      const body = await parseBody(ctx, embedBody);
      await proxyModelCall(
        ctx,
        '/api/embed',
        { ...body, model: normalizeModelName(body.model) },
        body.model,
        {
          streaming: false,
          errorFormat: 'ndjson',
        },
      );
    },
    async embeddings(ctx) {
      const body = await parseBody(ctx, embeddingsBody);
      await proxyModelCall(
        ctx,
        '/api/embeddings',
        { ...body, model: normalizeModelName(body.model) },
        body.model,
        {
          streaming: false,
          errorFormat: 'ndjson',
        },
      );
    },
    async openaiChat(ctx) {
      const body = await parseBody(ctx, openaiChatBody);
      await proxyModelCall(
        ctx,
        '/v1/chat/completions',
        { ...body, model: normalizeModelName(body.model) },
        body.model,
        {
          // OpenAI's stream flag defaults to false.
          streaming: body.stream === true,
          errorFormat: 'sse',
        },
      );
    },
    async openaiCompletions(ctx) {
      const body = await parseBody(ctx, openaiCompletionBody);
      await proxyModelCall(
        ctx,
        '/v1/completions',
        { ...body, model: normalizeModelName(body.model) },
        body.model,
        { streaming: body.stream === true, errorFormat: 'sse' },
      );
    },
    async openaiModels(ctx) {
      const conns = currentConnections(config);
      if (ctx.params.url_idx !== undefined) {
        const conn = connectionAt(conns, ctx.params.url_idx);
        ctx.body = await fetchUpstreamJson(
          getCall(conn, '/v1/models', modelListTimeouts(config), clientSignal(ctx)),
        );
        return;
      }
      const merged = await registry.merged(conns, true);
      failIfNothingAnswered(conns, merged.errors);
      ctx.body = {
        object: 'list',
        data: merged.models.map((m) => ({
          id: m.model,
          object: 'model',
          created: typeof m.modified_at === 'string' ? Math.floor(Date.parse(m.modified_at) / 1000) || 0 : 0,
          owned_by: 'library',
          urls: m.urls,
        })),
        errors: merged.errors,
      };
    },

    async pull(ctx) {
      const body = await parseBody(ctx, namedModelBody);
      const conn = targetOrFirst(ctx);
      await forward(ctx, conn, '/api/pull', body, {
        streaming: body.stream !== false,
        errorFormat: 'ndjson',
      });
      invalidateWhenDone(ctx);
    },
    async create(ctx) {
      const body = await parseBody(ctx, namedModelBody);
      const conn = targetOrFirst(ctx);
      await forward(ctx, conn, '/api/create', body, {
        streaming: body.stream !== false,
        errorFormat: 'ndjson',
      });
      invalidateWhenDone(ctx);
    },
    async delete(ctx) {
      const body = await parseBody(ctx, namedModelBody);
      const model = (body.model ?? body.name) as string;
      const conn = await targetOrHost(ctx, model);
      await forwardForTrue(ctx, conn, 'DELETE', '/api/delete', forConnection(conn, body));
    },
    async push(ctx) {
      const body = await parseBody(ctx, namedModelBody);
      const conn = targetOrFirst(ctx);
      await forward(ctx, conn, '/api/push', body, {
        streaming: body.stream !== false,
        errorFormat: 'ndjson',
      });
    },
    async unload(ctx) {
      const body = await parseBody(ctx, namedModelBody);
      const model = normalizeModelName((body.model ?? body.name) as string);
      const hosts = await registry.hosts(currentConnections(config), model);
      const signal = clientSignal(ctx);
      // Ollama unloads on an empty generate with keep_alive 0; every host that has the model may hold it.
      await Promise.all(
        hosts.map((conn) =>
          fetchUpstreamJson(
            bodyCall(
              conn,
              'POST',
              '/api/generate',
              { model: upstreamModelName(conn, model), keep_alive: 0, prompt: '' },
              requestTimeouts(config, false),
              signal,
            ),
          ),
        ),
      );
      ctx.body = { status: true };
    },
    async copy(ctx) {
      const body = await parseBody(ctx, copyBody);
      const conn = await targetOrHost(ctx, body.source);
      await forwardForTrue(ctx, conn, 'POST', '/api/copy', forConnection(conn, body));
    },
  };

  // --- helpers closing over config/registry ------------------------------------------

  function getCall(conn: Connection, path: string, timeouts: UpstreamTimeouts, signal: AbortSignal) {
    return {
      baseUrl: conn.url,
      method: 'GET' as const,
      path,
      headers: upstreamHeaders(conn, false),
      timeouts,
      signal,
    };
  }

  function bodyCall(
    conn: Connection,
    method: 'POST' | 'DELETE',
    path: string,
    body: object,
    timeouts: UpstreamTimeouts,
    signal: AbortSignal,
  ) {
    return {
      baseUrl: conn.url,
      method,
      path,
      headers: upstreamHeaders(conn, true),
      body: Buffer.from(JSON.stringify(body)),
      timeouts,
      signal,
    };
  }

  /** Calls `path` on every enabled connection in parallel; failures are collected, not thrown. */
  async function fromEach(conns: readonly Connection[], path: string, ctx: Ctx) {
    const enabled = conns.filter((c) => c.enabled);
    const signal = clientSignal(ctx);
    const settled = await Promise.allSettled(
      enabled.map((c) => fetchUpstreamJson(getCall(c, path, modelListTimeouts(config), signal))),
    );
    const values: { idx: number; value: unknown }[] = [];
    const errors: UpstreamProblem[] = [];
    settled.forEach((r, i) => {
      const c = enabled[i] as Connection;
      if (r.status === 'fulfilled') values.push({ idx: c.idx, value: r.value });
      else {
        const detail = r.reason instanceof Error ? r.reason.message : String(r.reason);
        const status = r.reason instanceof HttpError ? r.reason.status : 502;
        const url = withoutCredentials(c.url);
        errors.push({ url_idx: c.idx, url, status, detail });
        logger.warn({ url_idx: c.idx, url, path, detail }, 'Ollama connection failed');
      }
    });
    return { values, errors };
  }

  /** Every connection failed: answer with the first failure rather than an empty 200. */
  function failIfNothingAnswered(conns: readonly Connection[], errors: UpstreamProblem[]) {
    const enabled = conns.filter((c) => c.enabled).length;
    const first = errors[0];
    if (first !== undefined && errors.length === enabled) throw new HttpError(first.status, first.detail);
  }

  function targetOrFirst(ctx: Ctx): Connection {
    return connectionAt(currentConnections(config), ctx.params.url_idx ?? '0');
  }

  async function targetOrHost(ctx: Ctx, model: string): Promise<Connection> {
    const conns = currentConnections(config);
    if (ctx.params.url_idx !== undefined) return connectionAt(conns, ctx.params.url_idx);
    return pickConnection(conns, model);
  }

  async function pickConnection(conns: readonly Connection[], model: string): Promise<Connection> {
    const enabled = conns.filter((c) => c.enabled);
    // One server without model settings: it is the only place the model can be; Ollama's own 404
    // says if it is not. A prefix or an allow-list needs the list to decide.
    const only = enabled.length === 1 ? (enabled[0] as Connection) : undefined;
    if (only !== undefined && only.prefixId === undefined && !only.modelIds?.length) return only;
    if (enabled.length === 0) throw new HttpError(503, 'No Ollama connection is enabled');
    return registry.route(conns, model);
  }

  async function proxyModelCall(
    ctx: Ctx,
    path: string,
    body: object,
    model: string,
    opts: Omit<RelayOptions, 'url' | 'label'>,
  ) {
    const conns = currentConnections(config);
    const conn =
      ctx.params.url_idx !== undefined
        ? connectionAt(conns, ctx.params.url_idx)
        : await pickConnection(conns, model);
    await forward(ctx, conn, path, forConnection(conn, body), opts);
  }

  /** The body as the chosen connection knows the model: without its prefix_id. */
  function forConnection(conn: Connection, body: object): Record<string, unknown> {
    const out: Record<string, unknown> = { ...body };
    for (const field of ['model', 'name', 'source', 'destination']) {
      const v = out[field];
      if (typeof v === 'string') out[field] = upstreamModelName(conn, v);
    }
    return out;
  }

  async function forward(
    ctx: Ctx,
    conn: Connection,
    path: string,
    body: object,
    opts: Omit<RelayOptions, 'url' | 'label'>,
  ) {
    let res: Awaited<ReturnType<typeof callUpstream>>;
    try {
      res = await callUpstream(
        bodyCall(conn, 'POST', path, body, requestTimeouts(config, opts.streaming), clientSignal(ctx)),
      );
    } catch (err) {
      throw toHttpError(err);
    }
    await relay(ctx, res, { ...opts, url: conn.url, label: path }, logger);
  }

  /** Ollama answers delete/copy with an empty 200; Open WebUI clients expect `true`. */
  async function forwardForTrue(
    ctx: Ctx,
    conn: Connection,
    method: 'POST' | 'DELETE',
    path: string,
    body: object,
  ) {
    const res = await callUpstream(
      bodyCall(conn, method, path, body, requestTimeouts(config, false), clientSignal(ctx)),
    ).catch((err: unknown) => {
      throw toHttpError(err);
    });
    if (res.status < 200 || res.status >= 300) {
      await relay(ctx, res, { streaming: false, errorFormat: 'ndjson', url: conn.url, label: path }, logger);
      return;
    }
    res.body.resume();
    res.close();
    registry.invalidate();
    ctx.body = true;
  }

  function invalidateWhenDone(ctx: Ctx) {
    registry.invalidate();
    ctx.res.once('close', () => registry.invalidate());
  }

  const router = new Router<AppState>({ prefix: OLLAMA_PREFIX });
  for (const r of OLLAMA_ROUTES) {
    const chain: Middleware<AppState>[] = [];
    const guard = GUARD[r.access];
    if (guard !== undefined) chain.push(guard);
    if (r.proxied) chain.push(ollamaEnabled);
    const handler = handlers[r.id];
    chain.push((ctx) => handler(ctx as Ctx));
    router[r.method](r.path, ...chain);
  }
  return router;
}

/**
 * An AbortSignal that fires when the client connection closes before the
 * response finished, so the upstream request is torn down with it.
 */
function clientSignal(ctx: Context): AbortSignal {
  const state = ctx as Context & { ollamaAbort?: AbortController };
  if (state.ollamaAbort !== undefined) return state.ollamaAbort.signal;
  const ac = new AbortController();
  state.ollamaAbort = ac;
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** Orders "0.5.1" < "0.12.0" < "0.12.0-rc1"-style strings numerically, part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
