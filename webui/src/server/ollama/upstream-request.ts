import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { settings } from '../../contract/env.ts';
import {
  ClientGoneError,
  describeSocketError,
  type TimeoutKind,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './upstream-errors.ts';

/** Milliseconds; null means no limit. */
export interface UpstreamTimeouts {
  /** Bounds the whole exchange: connect, headers and the entire body. */
  totalMs: number | null;
  /** Which env variable the total timer reports when it fires. */
  totalKind: Extract<TimeoutKind, 'total' | 'modelList'>;
  connectMs: number | null;
  /** Longest silence allowed before the headers and between body chunks. */
  idleMs: number | null;
}

export interface UpstreamCall {
  /** The connection's base URL, e.g. http://ollama:11434 (may carry a path prefix). */
  baseUrl: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path on the upstream, with query, e.g. /api/chat. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeouts: UpstreamTimeouts;
  /** Aborted when the client disconnects: the upstream request is torn down. */
  signal: AbortSignal;
  /** What to append to "Ollama unreachable" for this URL (loopback-hint.ts); asked only when the call fails. */
  hintFor?: (url: string) => string;
}

export interface UpstreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Read it exactly once; the timers destroy it with an UpstreamTimeoutError. */
  body: http.IncomingMessage;
  /** Call on every body chunk: restarts the idle timer. */
  activity(): void;
  /** Stops the timers; call when the body has ended or been abandoned. */
  close(): void;
}

// Keep-alive pools: a chat's first token should not pay for a TCP handshake.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' }),
};

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export function upstreamUrl(baseUrl: string, path: string): URL {
  return new URL(baseUrl.replace(/\/+$/, '') + path);
}

interface Target {
  mod: typeof http | typeof https;
  agent: http.Agent;
  /** Protocol, host, port and credentials of the base URL, for http.request. */
  options: http.RequestOptions;
  /** The base URL's own path ("" or e.g. "/ollama"), put before every call's path. */
  basePath: string;
}

/**
 * Parsed base URLs: the same few connections serve every call, so each is parsed once rather
 * than per request. Bounded, since an admin's "verify connection" may name any URL.
 */
const targets = new Map<string, Target>();
const MAX_TARGETS = 64;

function targetOf(baseUrl: string): Target {
  let t = targets.get(baseUrl);
  if (t === undefined) {
    const url = new URL(baseUrl.replace(/\/+$/, ''));
    // urlToHttpOptions unbrackets IPv6 hosts and decodes user:password@ into `auth`.
    const o = urlToHttpOptions(url);
    const options: http.RequestOptions = {
      protocol: o.protocol ?? null,
      hostname: o.hostname ?? null,
      ...(o.port !== undefined && o.port !== '' ? { port: o.port } : {}),
      ...(o.auth !== undefined && o.auth !== null ? { auth: o.auth } : {}),
    };
    const tls = url.protocol === 'https:';
    t = {
      mod: tls ? https : http,
      agent: tls ? agents['https:'] : agents['http:'],
      options,
      basePath: url.pathname === '/' ? '' : url.pathname,
    };
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(baseUrl, t);
  }
  return t;
}

/**
 * Sends one request to an Ollama server and resolves with its response head,
 * the body still unread. Rejects with UpstreamUnreachableError (no
 * connection), UpstreamTimeoutError (before headers) or ClientGoneError.
 * Connection failures surface as soon as the OS reports them; the timers only
 * bound calls that hang.
 */
export function callUpstream(call: UpstreamCall, mayRetry = true): Promise<UpstreamResponse> {
  const target = targetOf(call.baseUrl);
  const { totalMs, connectMs, idleMs, totalKind } = call.timeouts;

  return new Promise<UpstreamResponse>((resolve, reject) => {
    let response: http.IncomingMessage | undefined;
    let totalTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const headers: Record<string, string> = { ...call.headers };
    if (call.body !== undefined) headers['content-length'] = String(call.body.length);
    const req = target.mod.request({
      ...target.options,
      path: target.basePath + call.path,
      method: call.method,
      headers,
      agent: target.agent,
    });

    const stopTimers = () => {
      stopped = true;
      clearTimeout(totalTimer);
      clearTimeout(idleTimer);
      clearTimeout(connectTimer);
      call.signal.removeEventListener('abort', onAbort);
    };
    // Before the headers the request carries the error; afterwards the body does.
    const fail = (err: Error) => {
      if (response !== undefined) response.destroy(err);
      else req.destroy(err);
    };
    let stopped = false;
    const armIdle = () => {
      if (idleMs === null || stopped) return;
      // Called for every streamed chunk: restart the one timer rather than make a new one each time.
      if (idleTimer !== undefined) idleTimer.refresh();
      else
        idleTimer = setTimeout(
          () => fail(new UpstreamTimeoutError(call.baseUrl, 'idle', seconds(idleMs))),
          idleMs,
        );
    };
    const onAbort = () => fail(new ClientGoneError());

    if (call.signal.aborted) {
      reject(new ClientGoneError());
      return;
    }
    call.signal.addEventListener('abort', onAbort, { once: true });
    if (totalMs !== null) {
      totalTimer = setTimeout(
        () => fail(new UpstreamTimeoutError(call.baseUrl, totalKind, seconds(totalMs))),
        totalMs,
      );
    }

    req.on('socket', (socket) => {
      if (connectMs !== null && socket.connecting) {
        connectTimer = setTimeout(() => {
          req.destroy(
            new UpstreamUnreachableError(
              call.baseUrl,
              `no connection within ${seconds(connectMs)} s (${settings.connectTimeout.env})`,
              call.hintFor?.(call.baseUrl),
            ),
          );
        }, connectMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      }
    });
    req.on('finish', armIdle);

    req.on('response', (res) => {
      response = res;
      settled = true;
      clearTimeout(connectTimer);
      armIdle();
      res.once('close', stopTimers);
      resolve({
        status: res.statusCode ?? 502,
        headers: res.headers,
        body: res,
        activity: armIdle,
        close: stopTimers,
      });
    });

    req.on('error', (err) => {
      stopTimers();
      if (settled) return;
      settled = true;
      if (
        err instanceof UpstreamTimeoutError ||
        err instanceof UpstreamUnreachableError ||
        err instanceof ClientGoneError
      ) {
        reject(err);
        return;
      }
      // A pooled keep-alive connection the server closed while idle fails at
      // once; the request never reached Ollama, so one retry on a fresh
      // connection is safe (the pattern Node documents for reusedSocket).
      const code = (err as { code?: string }).code;
      if (mayRetry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
        resolve(callUpstream(call, false));
        return;
      }
      reject(
        new UpstreamUnreachableError(call.baseUrl, describeSocketError(err), call.hintFor?.(call.baseUrl)),
      );
    });

    req.end(call.body);
  });
}

/** Reads a whole body (for small JSON answers), restarting the idle timer per chunk. */
export async function readUpstreamBody(
  res: UpstreamResponse,
  limitBytes = 32 * 1024 * 1024,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      res.activity();
      size += chunk.length;
      if (size > limitBytes) {
        res.body.destroy();
        throw new Error(`Ollama's answer is larger than ${limitBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } finally {
    res.close();
  }
  return Buffer.concat(chunks);
}
