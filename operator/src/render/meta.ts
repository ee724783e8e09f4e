/** Names, labels and owner references shared by every object rendered for a WebUI. */
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type WebUI } from '../api/v1alpha1/webui.ts';

export const FIELD_MANAGER = 'webui-operator';
export const CONFIG_HASH_ANNOTATION = 'webui.dev/config-hash';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
/** Selects every object this operator manages (used by its watches). */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${FIELD_MANAGER}`;

export type Component = 'backend' | 'frontend' | 'data' | 'secret-key' | 'ingress';

export const names = {
  backend: (w: WebUI) => `${w.metadata.name}-backend`,
  frontend: (w: WebUI) => `${w.metadata.name}-frontend`,
  secretKey: (w: WebUI) => `${w.metadata.name}-secret-key`,
  data: (w: WebUI) => `${w.metadata.name}-data`,
  ingress: (w: WebUI) => w.metadata.name,
};

/** Labels that select a component's pods; stable for the object's lifetime (selectors are immutable). */
export function selectorLabels(w: WebUI, component: Component): Record<string, string> {
  return { [LABEL_NAME]: 'webui', [LABEL_INSTANCE]: w.metadata.name, [LABEL_COMPONENT]: component };
}

export function labels(w: WebUI, component: Component): Record<string, string> {
  return { ...selectorLabels(w, component), [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_PART_OF]: 'webui' };
}

/** The controller reference that makes the garbage collector delete the child with its WebUI. */
export function ownerReference(w: WebUI): V1OwnerReference {
  if (!w.metadata.uid) throw new Error(`WebUI ${w.metadata.namespace}/${w.metadata.name} has no uid yet`);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: w.metadata.name,
    uid: w.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Standard metadata of a child object. */
export function childMeta(w: WebUI, name: string, component: Component, owned = true) {
  return {
    name,
    namespace: w.metadata.namespace,
    labels: labels(w, component),
    ...(owned ? { ownerReferences: [ownerReference(w)] } : {}),
  };
}
