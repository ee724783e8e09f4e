/** Services, the backend's NetworkPolicy and the optional Ingress, plus the URL users reach. */
import type { KubernetesObject, V1Ingress, V1LabelSelector, V1Service } from '@kubernetes/client-node';
import { normalizeBasePath, parseTrustedProxies } from '#contract';
import { DEFAULT_TRUSTED_PROXIES, type WebUI } from '../api/v1alpha1/webui.ts';
import { HTTP_PORT } from './backend.ts';
import { childMeta, names, selectorLabels } from './meta.ts';

export function renderBackendService(w: WebUI): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(w, names.backend(w), 'backend'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(w, 'backend'),
      ports: [{ name: 'http', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function renderFrontendService(w: WebUI): V1Service {
  const s = w.spec.service;
  const meta = childMeta(w, names.frontend(w), 'frontend');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: s.annotations ? { ...meta, annotations: s.annotations } : meta,
    spec: {
      type: s.type,
      selector: selectorLabels(w, 'frontend'),
      ports: [{ name: 'http', port: s.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export { DEFAULT_TRUSTED_PROXIES };

/**
 * A networking.k8s.io/v1 NetworkPolicy as JSON on the wire (client-node's
 * V1NetworkPolicyIngressRule names `from` `_from` for its serializer, which
 * the operator does not use).
 */
export interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: ('Ingress' | 'Egress')[];
    ingress: { from: { podSelector: V1LabelSelector }[]; ports: { port: string; protocol: 'TCP' }[] }[];
  };
}

/**
 * The proxies the frontend trusts (its FORWARDED_ALLOW_IPS): spec.network.trustedProxies, or the
 * private and loopback ranges when unset. Checked with the server's own parser, so a list the
 * server would refuse at startup is reported on the WebUI instead of crash-looping the pods.
 */
export function trustedProxies(w: WebUI): string[] {
  const list = w.spec.network?.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
  try {
    parseTrustedProxies(list);
  } catch (e) {
    throw new Error(`spec.network.trustedProxies: ${e instanceof Error ? e.message : String(e)}`);
  }
  return [...list];
}

/**
 * Only the frontend pods of this WebUI may open connections to its backend
 * pods, on the backend's port. The backend trusts X-Forwarded-For from any
 * peer (its only peer should be the forwarder), so nothing else may reach it.
 * Connections from the pod's own node (the kubelet's probes) are always
 * allowed under a NetworkPolicy; egress (Ollama, Postgres, DNS) is not
 * restricted. Policies add up: another policy can admit more (monitoring).
 */
export function renderBackendNetworkPolicy(w: WebUI): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(w, names.backend(w), 'backend'),
    spec: {
      podSelector: { matchLabels: selectorLabels(w, 'backend') },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: selectorLabels(w, 'frontend') } }],
          ports: [{ port: 'http', protocol: 'TCP' }],
        },
      ],
    },
  };
}

export function ingressEnabled(w: WebUI): boolean {
  return w.spec.ingress?.enabled === true && w.spec.ingress.host !== undefined;
}

/**
 * The path prefix users reach the app under: the Ingress path without its
 * trailing slash ("/chat"), or "" at the root and without an Ingress.
 */
export function servedPath(w: WebUI): string {
  if (!ingressEnabled(w)) return '';
  try {
    return normalizeBasePath(w.spec.ingress?.path ?? '/');
  } catch (e) {
    throw new Error(`spec.ingress.path: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function renderIngress(w: WebUI): V1Ingress | undefined {
  const i = w.spec.ingress;
  if (!i || !ingressEnabled(w) || i.host === undefined) return undefined;
  const meta = childMeta(w, names.ingress(w), 'ingress');
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: i.annotations ? { ...meta, annotations: i.annotations } : meta,
    spec: {
      ...(i.className !== undefined ? { ingressClassName: i.className } : {}),
      ...(i.tlsSecretName !== undefined ? { tls: [{ hosts: [i.host], secretName: i.tlsSecretName }] } : {}),
      rules: [
        {
          host: i.host,
          http: {
            paths: [
              {
                path: servedPath(w) || '/',
                pathType: 'Prefix',
                backend: { service: { name: names.frontend(w), port: { number: w.spec.service.port } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/** Where users reach the WebUI: the Ingress URL when there is one, else the frontend Service. */
export function publicUrl(w: WebUI): string {
  const i = w.spec.ingress;
  if (i && ingressEnabled(w) && i.host !== undefined) {
    return `${i.tlsSecretName !== undefined ? 'https' : 'http'}://${i.host}${servedPath(w)}/`;
  }
  const port = w.spec.service.port === 80 ? '' : `:${w.spec.service.port}`;
  return `http://${names.frontend(w)}.${w.metadata.namespace}.svc${port}/`;
}
