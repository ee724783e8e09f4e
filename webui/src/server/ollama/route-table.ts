import type { Context } from 'koa';
import type { z } from 'zod';
import type { Access, ResponseDoc } from '../openapi/registry.ts';
import type { AppState } from '../types.ts';
import {
  CONNECTION_SETTINGS,
  MERGED_MODELS,
  OLLAMA_VERSION,
  OPENAI_MODELS,
  RELAYED,
  RELAYED_OR_NDJSON,
  RELAYED_OR_SSE,
  STATUS_TRUE,
  TRUE,
} from './responses.ts';
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
  pushBody,
  verifyBody,
} from './schemas.ts';

/** A /ollama route as the table declares it; `OLLAMA_ROUTES` expands it. */
interface DeclaredRoute {
  id: string;
  method: 'get' | 'post' | 'delete';
  /** Relative to /ollama, Koa syntax. */
  path: string;
  access: Access;
  summary: string;
  body?: z.ZodType;
  /** What a 200 carries (documented in /openapi.json). */
  response: ResponseDoc;
  /** Also served as `<path>/:url_idx`, for one connection. */
  byIndex?: true;
  /** Our own route, answered even while ENABLE_OLLAMA_API is off (an admin switches it back on here). */
  local?: true;
}

/**
 * Open WebUI's /ollama route table: the single source for the router, its
 * guards, the body schemas and the OpenAPI entries. Order is kept as served.
 */
const DECLARED = [
  {
    id: 'status',
    response: STATUS_TRUE,
    method: 'get',
    path: '/',
    access: 'public',
    summary: 'Proxy status: {"status": true}',
    local: true,
  },
  {
    id: 'config',
    response: CONNECTION_SETTINGS,
    method: 'get',
    path: '/config',
    access: 'admin',
    summary: 'Ollama connection settings (keys masked) and which of them the deployment manages',
    local: true,
  },
  {
    id: 'configUpdate',
    response: CONNECTION_SETTINGS,
    method: 'post',
    path: '/config/update',
    access: 'admin',
    summary: 'Change ENABLE_OLLAMA_API, OLLAMA_BASE_URLS, OLLAMA_API_CONFIGS (409 for managed settings)',
    body: configUpdateBody,
    local: true,
  },
  {
    id: 'verify',
    response: RELAYED,
    method: 'post',
    path: '/verify',
    access: 'admin',
    summary: 'Check that an Ollama URL answers GET /api/version',
    body: verifyBody,
    local: true,
  },
  {
    id: 'tags',
    response: MERGED_MODELS,
    method: 'get',
    path: '/api/tags',
    access: 'verified',
    summary: 'Models merged across connections, each with urls: [url_idx...]; unreachable ones in errors',
    byIndex: true,
  },
  {
    id: 'version',
    response: OLLAMA_VERSION,
    method: 'get',
    path: '/api/version',
    access: 'public',
    summary: 'Lowest Ollama version across connections',
    byIndex: true,
  },
  {
    id: 'ps',
    response: MERGED_MODELS,
    method: 'get',
    path: '/api/ps',
    access: 'verified',
    summary: 'Loaded models merged across connections',
  },
  {
    id: 'chat',
    response: RELAYED_OR_NDJSON,
    method: 'post',
    path: '/api/chat',
    access: 'verified',
    summary: 'Chat; streamed NDJSON unless stream is false',
    body: chatBody,
    byIndex: true,
  },
  {
    id: 'generate',
    response: RELAYED_OR_NDJSON,
    method: 'post',
    path: '/api/generate',
    access: 'verified',
    summary: 'Completion; streamed NDJSON unless stream is false',
    body: generateBody,
    byIndex: true,
  },
  {
    id: 'show',
    response: RELAYED,
    method: 'post',
    path: '/api/show',
    access: 'verified',
    summary: 'Model details',
    body: namedModelBody,
  },
  {
    id: 'embed',
    response: RELAYED,
    method: 'post',
    path: '/api/embed',
    access: 'verified',
    summary: 'Embeddings',
    body: embedBody,
    byIndex: true,
  },
  {
    id: 'embeddings',
    response: RELAYED,
    method: 'post',
    path: '/api/embeddings',
    access: 'verified',
    summary: 'Embeddings (legacy API)',
    body: embeddingsBody,
    byIndex: true,
  },
  {
    id: 'pull',
    response: RELAYED_OR_NDJSON,
    method: 'post',
    path: '/api/pull',
    access: 'admin',
    summary: 'Pull a model (default connection 0); streamed progress',
    body: namedModelBody,
    byIndex: true,
  },
  {
    id: 'create',
    response: RELAYED_OR_NDJSON,
    method: 'post',
    path: '/api/create',
    access: 'admin',
    summary: 'Create a model (default connection 0); streamed progress',
    body: namedModelBody,
    byIndex: true,
  },
  {
    id: 'delete',
    response: TRUE,
    method: 'delete',
    path: '/api/delete',
    access: 'admin',
    summary: 'Delete a model; returns true',
    body: namedModelBody,
    byIndex: true,
  },
  {
    id: 'copy',
    response: TRUE,
    method: 'post',
    path: '/api/copy',
    access: 'admin',
    summary: 'Copy a model; returns true',
    body: copyBody,
    byIndex: true,
  },
  {
    id: 'openaiChat',
    response: RELAYED_OR_SSE,
    method: 'post',
    path: '/v1/chat/completions',
    access: 'verified',
    summary: 'OpenAI-compatible chat completions (SSE when stream is true)',
    body: openaiChatBody,
    byIndex: true,
  },
  {
    id: 'openaiCompletions',
    response: RELAYED_OR_SSE,
    method: 'post',
    path: '/v1/completions',
    access: 'verified',
    summary: 'OpenAI-compatible (legacy) text completions (SSE when stream is true)',
    body: openaiCompletionBody,
    byIndex: true,
  },
  {
    id: 'openaiModels',
    response: OPENAI_MODELS,
    method: 'get',
    path: '/v1/models',
    access: 'verified',
    summary: 'OpenAI-compatible model list',
    byIndex: true,
  },
  {
    id: 'unload',
    response: STATUS_TRUE,
    method: 'post',
    path: '/api/unload',
    access: 'admin',
    summary: 'Unload a model from memory on every connection that has it (keep_alive 0); {"status": true}',
    body: namedModelBody,
  },
  {
    id: 'push',
    response: RELAYED_OR_NDJSON,
    method: 'delete',
    path: '/api/push',
    access: 'admin',
    summary:
      'Push a model to a registry (default connection 0); streamed progress. DELETE, as Open WebUI registers it',
    body: pushBody,
    byIndex: true,
  },
  {
    id: 'push',
    response: RELAYED_OR_NDJSON,
    method: 'post',
    path: '/api/push',
    access: 'admin',
    summary: 'Push a model to a registry (default connection 0); streamed progress',
    body: pushBody,
    byIndex: true,
  },
] as const satisfies readonly DeclaredRoute[];

type Declared = (typeof DECLARED)[number];

export type RouteId = Declared['id'];

/** One served /ollama route (a `:url_idx` variant is a route of its own). */
export interface RouteDef {
  id: RouteId;
  method: DeclaredRoute['method'];
  /** Relative to /ollama, Koa syntax. */
  path: string;
  access: Access;
  summary: string;
  body?: z.ZodType;
  response: ResponseDoc;
  /** Answered only while ENABLE_OLLAMA_API is on. */
  proxied: boolean;
}

export const OLLAMA_PREFIX = '/ollama';

/** Every /ollama route, `{url_idx}` variants included. */
export const OLLAMA_ROUTES: readonly RouteDef[] = DECLARED.flatMap((declared) => {
  // Read as the general row shape: not every row has every optional field.
  const r: DeclaredRoute = declared;
  const def: RouteDef = {
    id: declared.id,
    method: r.method,
    path: r.path,
    access: r.access,
    summary: r.summary,
    response: r.response,
    ...(r.body !== undefined ? { body: r.body } : {}),
    proxied: r.local !== true,
  };
  return r.byIndex
    ? [def, { ...def, path: `${r.path}/:url_idx`, summary: `${r.summary}; one connection by url_idx` }]
    : [def];
});

/** The request body a route's handler gets: the output of its schema, or nothing. */
export type BodyOf<I extends RouteId> =
  Extract<Declared, { id: I }> extends { body: infer S extends z.ZodType } ? z.output<S> : undefined;

export type OllamaContext = Context & { state: AppState };

/** Answers one route; a returned value becomes the JSON body, `undefined` means the answer was sent. */
export type OllamaHandler<I extends RouteId> = (ctx: OllamaContext, body: BodyOf<I>) => Promise<unknown>;

/** Handlers for a group of routes, one per id. */
export type OllamaHandlers<I extends RouteId> = { [K in I]: OllamaHandler<K> };
