import type { Logger } from 'pino';
import { HttpError, notFound } from '../http-error.ts';
import type { Connection } from './connections.ts';
import { withoutCredentials } from './upstream-errors.ts';

/** One model of the merged list: Ollama's own fields plus the connections that host it. */
export interface MergedModel {
  name: string;
  model: string;
  urls: number[];
  [field: string]: unknown;
}

/** An upstream that could not be listed; reported to the client, never silently dropped. */
export interface UpstreamProblem {
  url_idx: number;
  url: string;
  /** What the client would have got from that connection alone: 502, 504 or Ollama's own status. */
  status: number;
  detail: string;
}

/** What a failed call to `conn` tells the client: the status it would have got and why. */
export function upstreamProblem(conn: Connection, reason: unknown): UpstreamProblem {
  const detail = reason instanceof Error ? reason.message : String(reason);
  const status = reason instanceof HttpError ? reason.status : 502;
  return { url_idx: conn.idx, url: withoutCredentials(conn.url), status, detail };
}

export interface MergedTags {
  models: MergedModel[];
  errors: UpstreamProblem[];
}

/** `GET /api/tags` on one connection; throws HttpError (502/504/upstream status) on failure. */
export type FetchTags = (conn: Connection) => Promise<unknown>;

/**
 * Ollama resolves a bare name to its `:latest` tag; we do the same before
 * matching, looking only at the last path segment so `host:5000/llama3`
 * still gets its tag.
 */
export function normalizeModelName(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? name : `${name}:latest`;
}

/** Merges per-connection tag lists by model name, first occurrence wins, recording every host in `urls`. */
export function mergeTags(lists: { idx: number; models: unknown }[]): MergedModel[] {
  const byName = new Map<string, MergedModel>();
  for (const { idx, models } of lists) {
    if (!Array.isArray(models)) continue;
    for (const m of models) {
      if (typeof m !== 'object' || m === null) continue;
      const entry = m as Record<string, unknown>;
      const raw = typeof entry.model === 'string' ? entry.model : entry.name;
      if (typeof raw !== 'string' || raw === '') continue;
      const key = normalizeModelName(raw);
      const seen = byName.get(key);
      if (seen === undefined) {
        byName.set(key, {
          ...entry,
          name: typeof entry.name === 'string' ? entry.name : raw,
          model: raw,
          urls: [idx],
        });
      } else if (!seen.urls.includes(idx)) {
        seen.urls.push(idx);
      }
    }
  }
  return [...byName.values()];
}

interface CacheEntry {
  key: string;
  at: number;
  value: MergedTags;
}

/**
 * The merged model list across connections, cached briefly so that routing a
 * chat does not cost a /api/tags round trip per request. The cache is keyed
 * by the connection list, so a config change takes effect immediately.
 */
export class ModelRegistry {
  readonly #fetchTags: FetchTags;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  #cache: CacheEntry | undefined;
  #inflight: { key: string; promise: Promise<MergedTags> } | undefined;
  #generation = 0;
  #next = 0;

  constructor(fetchTags: FetchTags, logger: Logger, ttlMs = 5_000) {
    this.#fetchTags = fetchTags;
    this.#logger = logger;
    this.#ttlMs = ttlMs;
  }

  /** Drops the cache, e.g. after a pull, delete, copy or create. */
  invalidate(): void {
    this.#cache = undefined;
    this.#generation++;
  }

  /** The merged list; `fresh` bypasses the cache (the /api/tags route always asks fresh). */
  async merged(connections: readonly Connection[], fresh = false): Promise<MergedTags> {
    // Everything that shapes the list, so a settings change takes effect at once (not the API key).
    const key = JSON.stringify(connections.map(({ key: _key, ...shape }) => shape));
    const cached = this.#cache;
    if (!fresh && cached !== undefined && cached.key === key && Date.now() - cached.at < this.#ttlMs) {
      return cached.value;
    }
    if (this.#inflight !== undefined && this.#inflight.key === key) return this.#inflight.promise;
    const generation = this.#generation;
    const promise = this.#load(connections).then((value) => {
      if (generation === this.#generation) this.#cache = { key, at: Date.now(), value };
      return value;
    });
    this.#inflight = { key, promise };
    try {
      return await promise;
    } finally {
      if (this.#inflight?.promise === promise) this.#inflight = undefined;
    }
  }

  async #load(connections: readonly Connection[]): Promise<MergedTags> {
    const enabled = connections.filter((c) => c.enabled);
    const results = await Promise.allSettled(enabled.map((c) => this.#fetchTags(c)));
    const lists: { idx: number; models: unknown }[] = [];
    const errors: UpstreamProblem[] = [];
    results.forEach((r, i) => {
      const conn = enabled[i] as Connection;
      if (r.status === 'fulfilled') {
        lists.push({ idx: conn.idx, models: (r.value as { models?: unknown } | null)?.models });
      } else {
        const problem = upstreamProblem(conn, r.reason);
        errors.push(problem);
        this.#logger.warn(
          { url_idx: conn.idx, url: problem.url, detail: problem.detail },
          'Ollama connection could not be listed',
        );
      }
    });
    return { models: mergeTags(lists), errors };
  }

  /**
   * The connection to send a request for `model` to. Unknown names refresh
   * the list once (the model may have just been pulled) before giving up
   * with 404, or with the upstream errors when no connection could be listed.
   */
  async route(connections: readonly Connection[], model: string): Promise<Connection> {
    const hosts = await this.hosts(connections, model);
    // Spread load over the hosts that have the model.
    const conn = hosts[this.#next++ % hosts.length];
    if (conn === undefined) throw notFound(`Model '${model}' was not found`);
    return conn;
  }

  /** Every enabled connection that lists `model` (refreshing once for an unknown name); 404 when none. */
  async hosts(connections: readonly Connection[], model: string): Promise<Connection[]> {
    const wanted = normalizeModelName(model);
    let tags = await this.merged(connections);
    let found = tags.models.find((m) => normalizeModelName(m.model) === wanted);
    if (found === undefined) {
      tags = await this.merged(connections, true);
      found = tags.models.find((m) => normalizeModelName(m.model) === wanted);
    }
    if (found === undefined) {
      const problem = tags.errors[0];
      if (problem !== undefined && tags.models.length === 0) {
        // Nothing could be listed: the honest answer is why, not "no such model".
        throw new HttpError(problem.status, problem.detail);
      }
      throw notFound(`Model '${model}' was not found`);
    }
    return found.urls.map((i) => connections[i]).filter((c): c is Connection => c?.enabled === true);
  }
}
