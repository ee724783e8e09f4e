import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { RuntimeConfig } from '../../config/runtime-config.ts';
import { type Connection, modelListTimeouts, requestTimeouts, upstreamHeaders } from './connections.ts';
import { loopbackHint, type Whereabouts } from './loopback-hint.ts';
import { type UpstreamProblem, upstreamProblem } from './model-registry.ts';
import { fetchUpstreamJson, type RelayOptions, relay, toHttpError } from './relay.ts';
import { callUpstream, type UpstreamCall, type UpstreamTimeouts } from './upstream-request.ts';

/** A GET to one connection, with its key but none of the client's credentials. */
export function getCall(
  conn: Connection,
  path: string,
  timeouts: UpstreamTimeouts,
  signal: AbortSignal,
): UpstreamCall {
  return { baseUrl: conn.url, method: 'GET', path, headers: upstreamHeaders(conn, false), timeouts, signal };
}

/** A JSON request to one connection. */
export function bodyCall(
  conn: Connection,
  method: 'POST' | 'DELETE',
  path: string,
  body: object,
  timeouts: UpstreamTimeouts,
  signal: AbortSignal,
): UpstreamCall {
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

/**
 * An AbortSignal that fires when the client connection closes before the
 * response finished, so the upstream request is torn down with it. One per
 * request, however many upstream calls it makes.
 */
export function clientSignal(ctx: Context): AbortSignal {
  const state = ctx as Context & { ollamaAbort?: AbortController };
  if (state.ollamaAbort !== undefined) return state.ollamaAbort.signal;
  const ac = new AbortController();
  state.ollamaAbort = ac;
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** How a relayed answer is framed; the connection and the path fill in the rest. */
export type Framing = Omit<RelayOptions, 'url' | 'label'>;

/**
 * The proxy's calls to Ollama, with the timeouts of the moment (read from the
 * runtime config on every call) and the client's disconnect passed on.
 */
export class UpstreamCalls {
  readonly #config: RuntimeConfig;
  readonly #logger: Logger;
  readonly #where: Whereabouts;

  /** `where`: where this server runs, so an unreachable loopback URL gets the advice that fits. */
  constructor(config: RuntimeConfig, logger: Logger, where: Whereabouts) {
    this.#config = config;
    this.#logger = logger;
    this.#where = where;
  }

  /** Parses the URL only when a call failed: nothing is added to the path of a call that works. */
  readonly #hintFor = (url: string): string => loopbackHint(url, this.#where);

  #hinted(call: UpstreamCall): UpstreamCall {
    call.hintFor = this.#hintFor;
    return call;
  }

  /** GET `path` on one connection within the model-list timeout; its JSON, or an HttpError. */
  listing(conn: Connection, path: string, signal: AbortSignal): Promise<unknown> {
    return fetchUpstreamJson(this.#hinted(getCall(conn, path, modelListTimeouts(this.#config), signal)));
  }

  /** Calls `path` on every enabled connection in parallel; failures are collected and logged, not thrown. */
  async fromEach(conns: readonly Connection[], path: string, ctx: Context) {
    const enabled = conns.filter((c) => c.enabled);
    const signal = clientSignal(ctx);
    const settled = await Promise.allSettled(enabled.map((c) => this.listing(c, path, signal)));
    const values: { idx: number; value: unknown }[] = [];
    const errors: UpstreamProblem[] = [];
    settled.forEach((r, i) => {
      const c = enabled[i] as Connection;
      if (r.status === 'fulfilled') {
        values.push({ idx: c.idx, value: r.value });
        return;
      }
      const problem = upstreamProblem(c, r.reason);
      errors.push(problem);
      this.#logger.warn(
        { url_idx: c.idx, url: problem.url, path, detail: problem.detail },
        'Ollama connection failed',
      );
    });
    return { values, errors };
  }

  /** A JSON POST whose JSON answer the proxy reads itself (not relayed), within the request timeout. */
  post(conn: Connection, path: string, body: object, signal: AbortSignal): Promise<unknown> {
    return fetchUpstreamJson(
      this.#hinted(bodyCall(conn, 'POST', path, body, requestTimeouts(this.#config, false), signal)),
    );
  }

  /** POSTs `body` to `path` on `conn` and relays the answer to the client as it arrives. */
  async forward(ctx: Context, conn: Connection, path: string, body: object, framing: Framing) {
    const call = this.#hinted(
      bodyCall(conn, 'POST', path, body, requestTimeouts(this.#config, framing.streaming), clientSignal(ctx)),
    );
    let res: Awaited<ReturnType<typeof callUpstream>>;
    try {
      res = await callUpstream(call);
    } catch (err) {
      throw toHttpError(err);
    }
    await relay(ctx, res, { ...framing, url: conn.url, label: path }, this.#logger);
  }

  /**
   * For calls whose 2xx answer is empty (delete, copy): resolves when Ollama
   * agreed; a refusal reaches the client as its error, with Ollama's status.
   */
  async confirm(ctx: Context, conn: Connection, method: 'POST' | 'DELETE', path: string, body: object) {
    const call = this.#hinted(
      bodyCall(conn, method, path, body, requestTimeouts(this.#config, false), clientSignal(ctx)),
    );
    const res = await callUpstream(call).catch((err: unknown) => {
      throw toHttpError(err);
    });
    if (res.status < 200 || res.status >= 300) {
      // relay turns a non-2xx answer into the HttpError the client gets, and throws it.
      await relay(
        ctx,
        res,
        { streaming: false, errorFormat: 'ndjson', url: conn.url, label: path },
        this.#logger,
      );
      return;
    }
    res.body.resume();
    res.close();
  }
}
