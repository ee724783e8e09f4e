import http from 'node:http';
import https from 'node:https';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { endToEndHeaders } from '../http/hop-by-hop.ts';
import { badGateway } from '../http-error.ts';
import { describeSocketError } from '../ollama/upstream-errors.ts';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' }),
};

/** Fails fast on a backend that does not accept connections at all; requests themselves are not time-limited. */
const CONNECT_TIMEOUT_MS = 5_000;

const REQUEST_DROP = new Set(['host']);

function appendForwarded(existing: string | string[] | undefined, value: string): string {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  return prior !== undefined && prior !== '' ? `${prior}, ${value}` : value;
}

/**
 * A streaming reverse proxy to the API server, for `webui serve --mode
 * frontend`. The request body is piped up and the response piped down as
 * bytes arrive; status and end-to-end headers (Set-Cookie included) are kept,
 * hop-by-hop headers dropped, and the backend request is destroyed when the
 * client goes away. Unlike the /ollama proxy it forwards Authorization and
 * cookies: the backend is our own server, which authenticates them.
 */
export function forwardTo(backendUrl: string, logger: Logger, servedUnder = ''): Middleware {
  const base = new URL(backendUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const mod = base.protocol === 'https:' ? https : http;
  const agent = base.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const log = logger.child({ component: 'forward', backend: base.origin });

  return async function forwardMiddleware(ctx) {
    const headers: http.OutgoingHttpHeaders = endToEndHeaders(ctx.req.headers, REQUEST_DROP);
    const remote = ctx.req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = appendForwarded(ctx.req.headers['x-forwarded-for'], remote);
    headers['x-forwarded-proto'] ??= ctx.protocol;
    headers['x-forwarded-host'] ??= ctx.get('host');
    // Where the browser sees the app (WEBUI_BASE_PATH): the backend scopes its cookie to it.
    if (servedUnder !== '') headers['x-forwarded-prefix'] = servedUnder;
    else delete headers['x-forwarded-prefix'];
    headers.host = base.host;
    // ctx.url, not originalUrl: WEBUI_BASE_PATH has already been stripped from it.
    const target = new URL(base.origin + basePath + ctx.url);

    // A request without a body can be sent again; one with a body is streamed and cannot.
    const bodiless =
      (ctx.method === 'GET' || ctx.method === 'HEAD') &&
      ctx.req.headers['content-length'] === undefined &&
      ctx.req.headers['transfer-encoding'] === undefined;

    const attempt = (mayRetry: boolean) =>
      new Promise<void>((resolve, reject) => {
        const up = mod.request(target, { method: ctx.method, headers, agent });
        let connectTimer: NodeJS.Timeout | undefined;
        let answered = false;
        let clientGone = false;

        // Client gone before or during the answer: tear the backend request down with it.
        const onClientClose = () => {
          if (ctx.res.writableFinished) return;
          clientGone = true;
          up.destroy();
        };
        ctx.res.once('close', onClientClose);

        up.on('socket', (socket) => {
          if (!socket.connecting) return;
          connectTimer = setTimeout(() => {
            const err = new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`);
            up.destroy(err);
          }, CONNECT_TIMEOUT_MS);
          socket.once('connect', () => clearTimeout(connectTimer));
        });

        up.on('response', (res) => {
          answered = true;
          clearTimeout(connectTimer);
          // Piped straight to the socket: no Koa body stream in between, and a
          // client that leaves is not reported as an application error.
          ctx.status = res.statusCode ?? 502;
          ctx.respond = false;
          ctx.res.writeHead(ctx.status, endToEndHeaders(res.headers));
          res.pipe(ctx.res);
          res.on('error', (err) => {
            if (clientGone) return;
            log.warn({ path: ctx.path, reason: err.message }, 'backend response broke off');
            // The body is incomplete; a cut connection is how HTTP says so.
            ctx.res.destroy();
          });
          resolve();
        });

        up.on('error', (err) => {
          clearTimeout(connectTimer);
          if (answered) return;
          ctx.res.off('close', onClientClose);
          if (clientGone) {
            resolve();
            return;
          }
          // The backend closed a pooled keep-alive connection just as it was
          // reused: the request never arrived, so send it once more.
          const code = (err as { code?: string }).code;
          if (mayRetry && up.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
            resolve(attempt(false));
            return;
          }
          const cause = describeSocketError(err);
          log.warn({ path: ctx.path, cause }, 'backend unreachable');
          reject(badGateway(`Backend unreachable at ${base.origin}: ${cause} (check BACKEND_URL)`));
        });

        if (bodiless) up.end();
        else ctx.req.pipe(up);
      });

    await attempt(bodiless);
  };
}
