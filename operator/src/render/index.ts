/** Everything the operator applies for one WebUI, in apply order. Pure: same input, same output. */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { type RenderContext, renderBackend } from './backend.ts';
import { renderDisruptionBudget } from './disruption.ts';
import { renderFrontend } from './frontend.ts';
import { names } from './meta.ts';
import {
  renderBackendNetworkPolicy,
  renderBackendService,
  renderFrontendService,
  renderIngress,
} from './network.ts';
import { renderDataClaim } from './pvc.ts';
import { renderSecretKeySecret } from './secret-key.ts';

export interface RenderInput extends RenderContext {
  /** Base64 data of the live generated Secret, if it exists (its key is kept). */
  existingSecretKeyData?: Record<string, string>;
  generateSecretKey?: () => string;
}

export interface Desired {
  /** Objects to server-side apply, dependencies first. */
  apply: KubernetesObject[];
  /**
   * Children that must not exist for this spec and are deleted if present
   * (only an Ingress that was turned off; a claim or a generated key that is no
   * longer used is kept on purpose: it holds data or sessions).
   */
  prune: { kind: 'Ingress'; name: string }[];
}

export function renderAll(w: WebUI, input: RenderInput): Desired {
  const ctx: RenderContext = { defaultImage: input.defaultImage, secretDigests: input.secretDigests };
  const ingress = renderIngress(w);
  const objs: (KubernetesObject | undefined)[] = [
    renderSecretKeySecret(w, input.existingSecretKeyData, input.generateSecretKey),
    renderDataClaim(w),
    renderBackendService(w),
    renderFrontendService(w),
    renderBackendNetworkPolicy(w),
    renderBackend(w, ctx),
    renderFrontend(w, ctx),
    renderDisruptionBudget(w, 'backend'),
    renderDisruptionBudget(w, 'frontend'),
    ingress,
  ];
  return {
    apply: objs.filter((o): o is KubernetesObject => o !== undefined),
    prune: ingress ? [] : [{ kind: 'Ingress', name: names.ingress(w) }],
  };
}
