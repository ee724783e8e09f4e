import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { settings } from '../../contract/env.ts';
import { forwardedHeaders } from '../auth/client-ip.ts';
import { endToEndHeaders } from '../http/hop-by-hop.ts';
import { isNormalisedPath, isOriginForm } from '../http/request-target.ts';
import { badGateway, badRequest } from '../http-error.ts';
import { describeSocketError } from '../ollama/upstream-errors.ts';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' }),
};

/** Fails fast on a backend that does not accept connections at all; requests themselves are not time-limited. */
const CONNECT_TIMEOUT_MS = 5_000;

const REQUEST_DROP = new Set(['host']);

/**
 * A streaming reverse proxy to the API server, for `webui serve --mode
 * frontend`. The request body is piped up and the response piped down as
 * bytes arrive; status and end-to-end headers (Set-Cookie included) are kept,
 * hop-by-hop headers dropped, and the backend request is destroyed when the
 * client goes away. Unlike the /ollama proxy it forwards Authorization and
 * cookies: the backend is our own server, which authenticates them.
 */
export function forwardTo(
  backendUrl: string,
  logger: Logger,
  servedUnder = '',
  trustedProxies: readonly string[] = settings.forwardedAllowIps.default,
): Middleware {
  const base = new URL(backendUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const mod = base.protocol === 'https:' ? https : http;
  const agent = base.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const log = logger.child({ component: 'forward', backend: base.origin });
  const backendOptions = urlToHttpOptions(base);

  return async function forwardMiddleware(ctx) {
    // The app has made the target a normalised path (middleware/request-target.ts); anything else would
    // reach the backend as another path than the one routed here (`/api/../ready` as `/ready`).
    if (!isOriginForm(ctx.req.url ?? '') || !isNormalisedPath(ctx.path))
      throw badRequest('The request target must be a path (origin-form) without dot segments');
    const headers: http.OutgoingHttpHeaders = endToEndHeaders(ctx.req.headers, REQUEST_DROP);
    // FORWARDED_ALLOW_IPS decides what is passed on: the backend believes whatever the forwarder sends.
    const fwd = forwardedHeaders(
      ctx.req.socket.remoteAddress ?? '',
      {
        for: ctx.get('x-forwarded-for'),
        proto: ctx.get('x-forwarded-proto'),
        host: ctx.get('x-forwarded-host'),
      },
      trustedProxies,
      { proto: ctx.protocol, host: ctx.get('host') },
    );
    headers['x-forwarded-for'] = fwd.for;
    headers['x-forwarded-proto'] = fwd.proto;
    headers['x-forwarded-host'] = fwd.host;
    // Where the browser sees the app (WEBUI_BASE_PATH): the backend scopes its cookie to it.
    if (servedUnder !== '') headers['x-forwarded-prefix'] = servedUnder;
    else delete headers['x-forwarded-prefix'];
    headers.host = base.host;
    // One id for both lines of the request (this one's, at debug, and the backend's).
    const requestId = (ctx.state as { requestId?: unknown }).requestId;
    if (typeof requestId === 'string') headers['x-request-id'] = requestId;
    // Built from the path and query alone (never the raw target, which may carry a scheme and host), with
    // WEBUI_BASE_PATH already stripped from the path; sent as is, without re-parsing.
    const target = {
      ...backendOptions,
      path: basePath + ctx.path + (ctx.querystring === '' ? '' : `?${ctx.querystring}`),
    };

    // A request without a body can be sent again; one with a body is streamed and cannot.
    const bodiless =
      (ctx.method === 'GET' || ctx.method === 'HEAD') &&
      ctx.req.headers['content-length'] === undefined &&
      ctx.req.headers['transfer-encoding'] === undefined;

    const attempt = (mayRetry: boolean) =>
      new Promise<void>((resolve, reject) => {
        const up = mod.request({ ...target, method: ctx.method, headers, agent });
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
          reject(
            badGateway(`Backend unreachable at ${base.origin}: ${cause} (check ${settings.backendUrl.env})`),
          );
        });

        if (bodiless) up.end();
        else ctx.req.pipe(up);
      });

    await attempt(bodiless);
  };
}
