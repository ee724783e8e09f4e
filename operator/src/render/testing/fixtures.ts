/** What the render tests share: a WebUI as the API server would hand it over, and container access. */
import type { V1Container, V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { defaultSpec, type WebUI, type WebUISpecInput } from '../../api/v1alpha1/webui.ts';
import type { RenderContext } from '../backend.ts';

/** A WebUI `chat` in `team-a` with this spec, defaulted. */
export function webui(spec: WebUISpecInput, meta: Partial<WebUI['metadata']> = {}): WebUI {
  return {
    apiVersion: 'webui.dev/v1alpha1',
    kind: 'WebUI',
    metadata: { name: 'chat', namespace: 'team-a', uid: 'uid-1', generation: 1, ...meta },
    spec: defaultSpec(spec),
  };
}

export const base: WebUISpecInput = { ollama: { baseUrl: 'http://ollama.ollama.svc:11434' } };
export const ctx: RenderContext = { defaultImage: 'ghcr.io/webui-operator/webui:0.1.0', secretDigests: {} };

/** The one container of a rendered Deployment. */
export function container(d: V1Deployment): V1Container {
  const c = d.spec?.template.spec?.containers[0];
  if (!c) throw new Error('no container');
  return c;
}

export function envMap(env: V1EnvVar[]): Record<string, string | undefined> {
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}
