// API clients for the operator with what client-node 2.0.1 lacks by default:
// - a request timeout on every typed call (none otherwise: a hung API server
//   would block a reconcile for undici's 300 s defaults);
// - one shared, connection-reusing dispatcher: client-node builds a fresh undici
//   Agent (a new TLS connection) for every request whenever TLS options exist.
// Watches do not go through these clients (client-node's Watch manages its own
// connection), so the timeout never cuts a long-running watch.
import {
  type Configuration,
  createConfiguration,
  HttpMethod,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  RequestContext,
  ServerConfiguration,
  setHeaderMiddleware,
} from '@kubernetes/client-node';

export interface KubeApiFactoryOptions {
  /** Per-request timeout; the call rejects with a DOMException named TimeoutError. Default 30 s. */
  requestTimeoutMs?: number;
  /** User-Agent sent with every call (shows up in audit logs). */
  userAgent?: string;
}

export interface KubeApiFactory {
  /** Like KubeConfig.makeApiClient, sharing one dispatcher and with the request timeout. */
  makeApiClient<T>(api: new (config: Configuration) => T): T;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export async function createKubeApiFactory(
  kc: KubeConfig,
  opts: KubeApiFactoryOptions = {},
): Promise<KubeApiFactory> {
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new Error(
      'kubeconfig has no current cluster: set KUBECONFIG or run in a pod with a service account',
    );
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Let the kubeconfig build its TLS-configured dispatcher once, then pin it.
  // Credentials (tokens, exec plugins) are still applied per request by the
  // auth method, so rotating service-account tokens keep working.
  const probe = new RequestContext(cluster.server, HttpMethod.GET);
  await kc.applySecurityAuthentication(probe);
  const shared = probe.getDispatcher();
  const pin: ObservableMiddleware = {
    pre: (ctx) => {
      if (shared) ctx.setDispatcher(shared);
      ctx.setSignal(AbortSignal.timeout(requestTimeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp) => new Observable(Promise.resolve(rsp)),
  };
  const middleware = [pin];
  if (opts.userAgent) middleware.unshift(setHeaderMiddleware('User-Agent', opts.userAgent));
  return {
    requestTimeoutMs,
    makeApiClient(Api) {
      return new Api(
        createConfiguration({
          baseServer: new ServerConfiguration(cluster.server, {}),
          authMethods: { default: kc },
          middleware,
        }),
      );
    },
  };
}
