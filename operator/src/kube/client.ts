/**
 * Typed client-node API objects that share one connection pool and put a
 * timeout on every request. client-node 2.0.1 does neither by itself: it
 * builds a new undici Agent (a new TLS connection) per call and never times
 * out (see docs/operator.md, "API calls").
 */
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

export const USER_AGENT = 'webui-operator/0.1';

export interface ClientFactory {
  makeApiClient<T>(Api: new (c: Configuration) => T): T;
}

/**
 * Builds the TLS-configured dispatcher once and pins it (with a per-request
 * timeout) on every request made through the returned factory.
 */
export async function clientFactory(kc: KubeConfig, timeoutMs = 30_000): Promise<ClientFactory> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const probe = new RequestContext(cluster.server, HttpMethod.GET);
  await kc.applySecurityAuthentication(probe);
  const shared = probe.getDispatcher();
  const pin: ObservableMiddleware = {
    pre: (ctx) => {
      if (shared) ctx.setDispatcher(shared);
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp) => new Observable(Promise.resolve(rsp)),
  };
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    middleware: [setHeaderMiddleware('User-Agent', USER_AGENT), pin],
  });
  return { makeApiClient: (Api) => new Api(config) };
}
