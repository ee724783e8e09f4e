/** The frontend Deployment (`webui serve --mode frontend`), forwarding API calls to the backend Service. */
import type { V1Deployment } from '@kubernetes/client-node';
import { formatEnv } from '#contract';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import {
  containerSecurityContext,
  ENTRYPOINT,
  HTTP_PORT,
  httpProbe,
  imageOf,
  podCommon,
  type RenderContext,
} from './backend.ts';
import { configHash } from './config-hash.ts';
import { containerResources, heapCapEnv } from './memory.ts';
import { CONFIG_HASH_ANNOTATION, childMeta, labels, names, selectorLabels } from './meta.ts';
import { servedPath, trustedProxies } from './routing.ts';

/** In-cluster URL of the backend Service. */
export function backendServiceUrl(w: WebUI): string {
  return `http://${names.backend(w)}.${w.metadata.namespace}.svc:${HTTP_PORT}`;
}

export function frontendEnv(w: WebUI): { name: string; value: string }[] {
  const basePath = servedPath(w);
  const proxies = trustedProxies(w);
  // Only set when needed: a new variable would change the config hash and roll every frontend.
  const env = formatEnv({
    port: HTTP_PORT,
    backendUrl: backendServiceUrl(w),
    ...(basePath ? { basePath } : {}),
    // The ingress reaches the frontend: it decides which X-Forwarded-* the backend gets.
    ...(proxies.length > 0 ? { forwardedAllowIps: proxies } : {}),
  });
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

export function renderFrontend(w: WebUI, ctx: RenderContext): V1Deployment {
  const resources = containerResources('frontend', w.spec.frontend.resources);
  const env = [...heapCapEnv(resources), ...frontendEnv(w)];
  const args = ['serve', '--mode', 'frontend'];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(w, names.frontend(w), 'frontend'),
    spec: {
      replicas: w.spec.frontend.replicas,
      selector: { matchLabels: selectorLabels(w, 'frontend') },
      template: {
        metadata: {
          labels: labels(w, 'frontend'),
          annotations: { [CONFIG_HASH_ANNOTATION]: configHash({ command: [ENTRYPOINT], args, env }) },
        },
        spec: {
          ...podCommon(w),
          containers: [
            {
              name: 'frontend',
              image: imageOf(w, ctx),
              ...(w.spec.imagePullPolicy ? { imagePullPolicy: w.spec.imagePullPolicy } : {}),
              command: [ENTRYPOINT],
              args,
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              env,
              resources,
              // In frontend mode /health is forwarded to the backend while /ready is answered
              // locally: a backend outage must neither restart nor unroute the frontends (they
              // keep serving the app, which shows the error).
              livenessProbe: {
                tcpSocket: { port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
                timeoutSeconds: 3,
              },
              readinessProbe: httpProbe('/ready', 5, 3),
              securityContext: containerSecurityContext,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}
