/**
 * PodDisruptionBudgets for the backend and the frontend: a node drain or a
 * cluster upgrade evicts at most one pod of each at a time, so a WebUI with
 * two or more replicas keeps serving. With one replica the budget still allows
 * the eviction (maxUnavailable 1), so it never blocks a drain.
 */
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { childMeta, names, selectorLabels } from './meta.ts';

export function renderDisruptionBudget(w: WebUI, component: 'backend' | 'frontend'): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(w, names[component](w), component),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(w, component) },
      // A crash-looping pod may always be evicted: it must not hold a drain hostage.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
