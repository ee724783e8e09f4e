/** Everything the operator applies for one WebUI, in apply order. Pure: same input, same output. */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { type RenderContext, renderBackend } from './backend.ts';
import { renderFrontend } from './frontend.ts';
import { renderBackendService, renderFrontendService, renderIngress } from './network.ts';
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
}

export function renderAll(w: WebUI, input: RenderInput): Desired {
  const ctx: RenderContext = { defaultImage: input.defaultImage, secretDigests: input.secretDigests };
  const objs: (KubernetesObject | undefined)[] = [
    renderSecretKeySecret(w, input.existingSecretKeyData, input.generateSecretKey),
    renderDataClaim(w),
    renderBackendService(w),
    renderFrontendService(w),
    renderBackend(w, ctx),
    renderFrontend(w, ctx),
    renderIngress(w),
  ];
  return { apply: objs.filter((o): o is KubernetesObject => o !== undefined) };
}
