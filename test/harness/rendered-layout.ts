/**
 * What the operator deploys for a WebUI, as plain data for running it outside a cluster: the literal
 * environment of the backend and frontend containers (Secret references left out; the caller gives
 * the key) and the Ingress, rendered by the operator's own code. The routing test and the latency
 * benchmark run the real servers with these, behind nginx configured from that Ingress, so what
 * they measure is the layout users get and not a hand-made copy of it.
 */
import type { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import { defaultSpec, type WebUI, type WebUISpecInput } from '../../operator/src/api/v1alpha1/webui.ts';
import { renderAll } from '../../operator/src/render/index.ts';
import { names } from '../../operator/src/render/meta.ts';

export interface RenderedLayout {
  backendEnv: Record<string, string>;
  frontendEnv: Record<string, string>;
  ingress: V1Ingress | undefined;
  /** Service names, as the Ingress refers to them. */
  services: { backend: string; frontend: string };
}

function literalEnv(d: V1Deployment | undefined): Record<string, string> {
  const env = d?.spec?.template.spec?.containers[0]?.env ?? [];
  return Object.fromEntries(env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}

export function renderedLayout(spec: WebUISpecInput, name = 'chat'): RenderedLayout {
  const w: WebUI = {
    apiVersion: 'webui.dev/v1alpha1',
    kind: 'WebUI',
    metadata: { name, namespace: 'default', uid: 'local', generation: 1 },
    spec: defaultSpec(spec),
  };
  const objects = renderAll(w, {
    defaultImage: 'webui:local',
    secretDigests: {},
    generateSecretKey: () => 'unused',
  }).apply;
  const deployment = (n: string) =>
    objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === n) as V1Deployment | undefined;
  return {
    backendEnv: literalEnv(deployment(names.backend(w))),
    frontendEnv: literalEnv(deployment(names.frontend(w))),
    ingress: objects.find((o) => o.kind === 'Ingress') as V1Ingress | undefined,
    services: { backend: names.backend(w), frontend: names.frontend(w) },
  };
}
