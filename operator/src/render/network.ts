/** Services, the backend's NetworkPolicy and the optional Ingress, plus the URL users reach. */
import type { KubernetesObject, V1Ingress, V1LabelSelector, V1Service } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { HTTP_PORT } from './backend.ts';
import { childMeta, names, selectorLabels } from './meta.ts';
import { apiViaBackend, backendIngressPaths, ingressEnabled, servedPath } from './routing.ts';

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

/**
 * A networking.k8s.io/v1 NetworkPolicy as JSON on the wire (client-node's
 * V1NetworkPolicyIngressRule names `from` `_from` for its serializer, which
 * the operator does not use).
 */
/** A source a NetworkPolicy admits: pods by label, in this namespace or in the namespaces selected. */
export interface NetworkPolicyPeer {
  podSelector?: V1LabelSelector;
  namespaceSelector?: V1LabelSelector;
}

export interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: ('Ingress' | 'Egress')[];
    /** A rule without `from` admits every source on its ports. */
    ingress: { from?: NetworkPolicyPeer[]; ports: { port: string; protocol: 'TCP' }[] }[];
  };
}

/**
 * Who may open connections to the backend pods, on the backend's port: the
 * frontend pods of this WebUI, and, when the Ingress sends the API to the
 * backend, the ingress controllers of spec.network.ingressControllers (unset:
 * any source, as for the frontend; the backend then believes X-Forwarded-*
 * only from spec.network.trustedProxies, render/routing.ts). Otherwise the
 * backend trusts any peer's X-Forwarded-For, so nothing else may reach it.
 * Connections from the pod's own node (the kubelet's probes) are always
 * allowed under a NetworkPolicy; egress (Ollama, Postgres, DNS) is not
 * restricted. Policies add up: another policy can admit more (monitoring).
 */
export function renderBackendNetworkPolicy(w: WebUI): NetworkPolicy {
  const ports = [{ port: 'http', protocol: 'TCP' as const }];
  const from: NetworkPolicyPeer[] = [{ podSelector: { matchLabels: selectorLabels(w, 'frontend') } }];
  const rules: NetworkPolicy['spec']['ingress'] = [];
  if (apiViaBackend(w)) {
    const controllers = w.spec.network?.ingressControllers;
    if (controllers === undefined) rules.push({ ports });
    else
      for (const c of controllers)
        from.push({
          ...(c.namespaceLabels !== undefined
            ? { namespaceSelector: { matchLabels: c.namespaceLabels } }
            : {}),
          ...(c.podLabels !== undefined ? { podSelector: { matchLabels: c.podLabels } } : {}),
        });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(w, names.backend(w), 'backend'),
    spec: {
      podSelector: { matchLabels: selectorLabels(w, 'backend') },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports }, ...rules],
    },
  };
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
              // The API straight to the backend (one proxy less per call); everything else to the frontend.
              ...(apiViaBackend(w)
                ? backendIngressPaths(w).map((p) => ({
                    ...p,
                    backend: { service: { name: names.backend(w), port: { number: HTTP_PORT } } },
                  }))
                : []),
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
