import type { RuntimeConfig } from '../../config/runtime-config.ts';
import { type OllamaApiConfig, ollamaUrlsFromEnv } from '../../contract/env.ts';
import { badRequest, conflict, notFound } from '../http-error.ts';
import { withoutCredentials } from './upstream-errors.ts';
import type { UpstreamTimeouts } from './upstream-request.ts';

/** One configured Ollama server. `idx` is its position in OLLAMA_BASE_URLS (the `url_idx`). */
export interface Connection {
  idx: number;
  url: string;
  enabled: boolean;
  key?: string;
  /** Models appear as "<prefixId>.<model>" (Open WebUI's prefix_id). */
  prefixId?: string;
  /** Only these models are listed and routed, when non-empty (model_ids). */
  modelIds?: string[];
  /** Attached to every model of the connection (tags, connection_type). */
  tags?: unknown[];
  connectionType?: string;
}

/**
 * The Ollama servers in effect right now. Read on every request so that
 * admin changes and env apply without a restart: OLLAMA_BASE_URLS when it is
 * non-empty, else OLLAMA_BASE_URL; per-connection `enable`, `key`, `prefix_id`,
 * `model_ids`, `tags` and `connection_type` come from OLLAMA_API_CONFIGS.
 */
export function currentConnections(config: RuntimeConfig): readonly Connection[] {
  const list = config.get('ollamaBaseUrls');
  const single = config.get('ollamaBaseUrl');
  const apiConfigs = config.get('ollamaApiConfigs');
  // Built once per change of the settings (the store hands out the same values until then), not per call.
  if (last !== undefined && last.list === list && last.single === single && last.apiConfigs === apiConfigs)
    return last.connections;
  const connections = Object.freeze(
    buildConnections(ollamaUrlsFromEnv({ ollamaBaseUrls: list, ollamaBaseUrl: single }), apiConfigs),
  );
  last = { list, single, apiConfigs, connections };
  return connections;
}

let last:
  | { list: unknown; single: unknown; apiConfigs: unknown; connections: readonly Connection[] }
  | undefined;

function buildConnections(
  urls: readonly string[],
  apiConfigs: Record<string, OllamaApiConfig>,
): Connection[] {
  return urls.map((url, idx) => {
    const c = apiConfigs[String(idx)];
    const conn: Connection = { idx, url: url.replace(/\/+$/, ''), enabled: c?.enable !== false };
    if (typeof c?.key === 'string' && c.key !== '') conn.key = c.key;
    if (typeof c?.prefix_id === 'string' && c.prefix_id.trim() !== '') conn.prefixId = c.prefix_id.trim();
    if (Array.isArray(c?.model_ids))
      conn.modelIds = c.model_ids.filter((m): m is string => typeof m === 'string' && m !== '');
    if (Array.isArray(c?.tags)) conn.tags = c.tags;
    if (typeof c?.connection_type === 'string') conn.connectionType = c.connection_type;
    return Object.freeze(conn);
  });
}

/**
 * Resolves a `{url_idx}` path parameter: not an index is 400, an index with
 * no connection is 404 (like any id that names nothing), a disabled
 * connection is 409 (it exists; the admin switched it off).
 */
export function connectionAt(connections: readonly Connection[], raw: string): Connection {
  if (!/^\d+$/.test(raw)) throw badRequest(`url_idx must be a connection index (0, 1, ...), got "${raw}"`);
  const idx = Number(raw);
  const conn = connections[idx];
  if (conn === undefined) {
    throw notFound(
      `url_idx ${idx} is out of range: ${connections.length} Ollama connection(s) are configured (0..${connections.length - 1})`,
    );
  }
  if (!conn.enabled) throw conflict(`Ollama connection ${idx} (${withoutCredentials(conn.url)}) is disabled`);
  return conn;
}

/** Headers for an upstream call. Built from scratch: the client's Authorization and cookies never pass. */
export function upstreamHeaders(conn: Connection, body: boolean): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': 'webui-ollama-proxy' };
  if (body) h['content-type'] = 'application/json';
  if (conn.key !== undefined) h.authorization = `Bearer ${conn.key}`;
  return h;
}

const ms = (s: number | null) => (s === null ? null : Math.round(s * 1000));

/** Timeouts for proxied calls, read per request. Idle applies to streaming answers only. */
export function requestTimeouts(config: RuntimeConfig, streaming: boolean): UpstreamTimeouts {
  return {
    totalMs: ms(config.get('clientTimeout')),
    totalKind: 'total',
    connectMs: ms(config.get('connectTimeout')),
    idleMs: streaming ? ms(config.get('streamIdleTimeout')) : null,
  };
}

/** Timeouts for model-list calls (/api/tags, /api/version, /api/ps, /v1/models, verify). */
export function modelListTimeouts(config: RuntimeConfig): UpstreamTimeouts {
  return {
    totalMs: ms(config.get('modelListTimeout')),
    totalKind: 'modelList',
    connectMs: ms(config.get('connectTimeout')),
    idleMs: null,
  };
}
