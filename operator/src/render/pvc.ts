/** The PersistentVolumeClaim for SQLite, which by default outlives its WebUI. */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { childMeta, names } from './meta.ts';

export function usesSqlite(w: WebUI): boolean {
  return w.spec.database === undefined;
}

/**
 * undefined with an external database. With retainOnDelete (the default) the
 * claim has no ownerReference, so the garbage collector leaves it behind and a
 * re-created WebUI of the same name picks it up again.
 */
export function renderDataClaim(w: WebUI): V1PersistentVolumeClaim | undefined {
  if (!usesSqlite(w)) return undefined;
  const p = w.spec.persistence;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: childMeta(w, names.data(w), 'data', !p.retainOnDelete),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: p.size } },
      ...(p.storageClassName !== undefined ? { storageClassName: p.storageClassName } : {}),
    },
  };
}
