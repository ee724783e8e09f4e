import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { HttpError } from '../http-error.ts';
import {
  ClientGoneError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
  withoutCredentials,
} from './upstream-errors.ts';
import {
  callUpstream,
  readUpstreamBody,
  type UpstreamCall,
  type UpstreamResponse,
} from './upstream-request.ts';

/** Maps a failed upstream call (before any byte reached the client) to the HTTP error the client gets. */
export function toHttpError(err: unknown): unknown {
  if (err instanceof UpstreamUnreachableError) return new HttpError(502, err.message);
  if (err instanceof UpstreamTimeoutError) return new HttpError(504, err.message);
  return err;
}

/**
 * Ollama answers errors as `{"error": "..."}`; its OpenAI-compatible routes as
 * `{"error": {"message": "..."}}`. The client gets the same status with
 * `{"detail": "<that text>"}`.
 */
export function errorFromUpstream(status: number, body: Buffer): HttpError {
  const text = body.toString('utf8');
  let detail: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; detail?: unknown };
    const e = parsed.error;
    if (typeof e === 'string') detail = e;
    else if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string')
      detail = (e as { message: string }).message;
    else if (typeof parsed.detail === 'string') detail = parsed.detail;
  } catch {
    // not JSON: fall through to the raw text
  }
  if (detail === undefined) {
    const snippet = text.trim().slice(0, 200);
    detail = snippet === '' ? `Ollama answered ${status}` : `Ollama answered ${status}: ${snippet}`;
  }
  // A 2xx-range "error" cannot happen here; anything below 400 would confuse clients.
  return new HttpError(status >= 400 ? status : 502, detail);
}

/** Calls an upstream and parses its JSON answer; non-2xx and failures become HttpErrors. */
export async function fetchUpstreamJson(call: UpstreamCall): Promise<unknown> {
  let res: UpstreamResponse;
  try {
    res = await callUpstream(call);
  } catch (err) {
    throw toHttpError(err);
  }
  let body: Buffer;
  try {
    body = await readUpstreamBody(res);
  } catch (err) {
    throw toHttpError(
      err instanceof Error && !(err instanceof ClientGoneError) ? asTimeoutOr502(call, err) : err,
    );
  }
  if (res.status < 200 || res.status >= 300) throw errorFromUpstream(res.status, body);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(502, `Ollama at ${call.baseUrl} sent a response that is not JSON`);
  }
}

function asTimeoutOr502(call: UpstreamCall, err: Error): Error {
  if (err instanceof UpstreamTimeoutError) return err;
  return new HttpError(502, `Ollama at ${call.baseUrl} broke off its answer: ${err.message}`);
}

export interface RelayOptions {
  /**
   * The answer is a stream the client reads incrementally: a failure after
   * the first byte ends it with a final error record instead of a bare cut.
   */
  streaming: boolean;
  /** Shape of that final record, and of the stream: NDJSON lines or SSE events. */
  errorFormat: 'ndjson' | 'sse';
  /** The upstream base URL, for messages. */
  url: string;
  /** The route, for logs. */
  label: string;
}

/** The Content-Type of a relayed answer, by its framing: never the upstream's own. */
const STREAM_TYPES: Record<RelayOptions['errorFormat'], string> = {
  ndjson: 'application/x-ndjson',
  sse: 'text/event-stream',
};
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The response headers of a relayed answer, built from scratch: the upstream
 * is not trusted with any header the browser acts on (a hostile Ollama could
 * set our session cookie, open CORS, relax the page's CSP, redirect, or send
 * HTML to be rendered on our origin). Only Content-Length passes, on answers
 * that are relayed byte for byte to their end (a stream may gain an error line).
 */
export function relayHeaders(upstream: IncomingHttpHeaders, opts: RelayOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': opts.streaming ? STREAM_TYPES[opts.errorFormat] : JSON_TYPE,
    'x-content-type-options': 'nosniff',
    // A chat answer or a model list belongs to one user: no shared cache may keep it.
    'cache-control': 'no-store',
  };
  const length = upstream['content-length'];
  if (!opts.streaming && length !== undefined && /^\d+$/.test(length)) headers['content-length'] = length;
  // Reverse proxies in front of us (nginx) must not buffer a token stream either.
  if (opts.streaming) headers['x-accel-buffering'] = 'no';
  return headers;
}

/**
 * Sends the upstream answer to the client as it arrives: same status, our own
 * headers (relayHeaders), each chunk written as soon as it is read, with
 * backpressure. A non-2xx answer becomes `{"detail"}` with the same status.
 */
export async function relay(ctx: Context, res: UpstreamResponse, opts: RelayOptions, logger: Logger) {
  if (res.status < 200 || res.status >= 300) {
    let body: Buffer;
    try {
      body = await readUpstreamBody(res, 1024 * 1024);
    } catch (err) {
      throw toHttpError(err);
    }
    throw errorFromUpstream(res.status, body);
  }

  // Written straight to the socket, not through a Koa body stream: one hop
  // less per chunk, and a client that leaves is our business, not an app error.
  ctx.status = res.status;
  ctx.respond = false;
  const client = ctx.res;
  client.writeHead(res.status, relayHeaders(res.headers, opts));

  const upstream = res.body;
  // The last two bytes sent (0x0a = newline), to start the error record on a fresh line / event.
  let last = 0x0a;
  let beforeLast = 0x0a;
  let finished = false;

  upstream.on('data', (chunk: Buffer) => {
    res.activity();
    const n = chunk.length;
    if (n >= 2) beforeLast = chunk[n - 2] as number;
    else if (n === 1) beforeLast = last;
    if (n > 0) last = chunk[n - 1] as number;
    if (!client.write(chunk)) upstream.pause();
  });
  client.on('drain', () => upstream.resume());
  client.once('close', () => {
    if (!finished) upstream.destroy(new ClientGoneError());
  });
  upstream.on('end', () => {
    finished = true;
    res.close();
    client.end();
  });
  upstream.on('error', (err) => {
    if (finished) return;
    finished = true;
    res.close();
    if (err instanceof ClientGoneError || client.destroyed) {
      client.destroy();
      return;
    }
    const message =
      err instanceof UpstreamTimeoutError
        ? err.message
        : `Ollama at ${withoutCredentials(opts.url)} broke off the stream: ${err.message}`;
    logger.warn(
      { route: opts.label, url: withoutCredentials(opts.url), reason: message },
      'Ollama stream cut',
    );
    if (!opts.streaming) {
      // A JSON body cannot be repaired; a cut connection tells the client it is incomplete.
      client.destroy();
      return;
    }
    const endsLine = last === 0x0a;
    if (opts.errorFormat === 'sse') {
      const sep = endsLine && beforeLast === 0x0a ? '' : endsLine ? '\n' : '\n\n';
      client.end(`${sep}data: ${JSON.stringify({ error: { message, type: 'proxy_error' } })}\n\n`);
    } else {
      client.end(`${endsLine ? '' : '\n'}${JSON.stringify({ error: message })}\n`);
    }
  });
}
