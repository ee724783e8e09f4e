/** The writes and uncached reads the reconciler makes, behind an interface so tests can fake them. */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { API_VERSION, KIND, type WebUI, type WebUIStatus } from '../api/v1alpha1/webui.ts';
import { isNotFound } from '../kube/errors.ts';
import { type EventType, recordEvent } from '../kube/events.ts';
import { collectionPath, objectPath } from '../kube/resources.ts';
import { CONTENT_TYPE, type KubeTransport } from '../kube/rest.ts';
import { FIELD_MANAGER } from '../render/meta.ts';
import { retryOnConflict } from '../runtime/retry-on-conflict.ts';
import { type ChildKind, isChildKind } from './child-kinds.ts';

export type { EventType } from '../kube/events.ts';

export interface KubeApi {
  /** Server-side apply of a child with the operator's field manager (force). Returns the live object. */
  apply(obj: KubernetesObject): Promise<KubernetesObject>;
  /**
   * Creates a child that is never written again (CREATE_ONLY_KINDS) with a
   * plain POST, which needs only the `create` verb. Returns the live object.
   */
  create(obj: KubernetesObject): Promise<KubernetesObject>;
  /** Server-side apply of status on the /status subresource. */
  applyStatus(w: WebUI, status: WebUIStatus): Promise<void>;
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Reads a child kind by name (undefined when it does not exist). */
  read(kind: string, namespace: string, name: string): Promise<KubernetesObject | undefined>;
  /**
   * Switches a Deployment to the Recreate strategy by deleting its defaulted
   * rollingUpdate block (a JSON merge patch): server-side apply cannot remove a
   * field nobody owns, and the API server refuses Recreate with rollingUpdate set.
   */
  switchToRecreate(namespace: string, name: string): Promise<void>;
  /**
   * Deletes a child the spec no longer wants, only if it is still the object with `uid`
   * (a precondition: never a same-named successor). 404 counts as done.
   */
  delete(kind: ChildKind, namespace: string, name: string, uid: string): Promise<void>;
  createEvent(w: WebUI, type: EventType, reason: string, message: string): Promise<void>;
}

function childPath(kind: string | undefined, namespace: string, name: string): string {
  if (!isChildKind(kind)) throw new Error(`cannot handle kind ${kind}`);
  return objectPath(kind, namespace, name);
}

export function kubeApi(client: KubeTransport, reportingInstance: string): KubeApi {
  const applyQuery = { fieldManager: FIELD_MANAGER, force: true };
  const ssa = (path: string, body: unknown) =>
    client.request<KubernetesObject>('PATCH', path, {
      query: applyQuery,
      body,
      contentType: CONTENT_TYPE.apply,
    });
  const readOrUndefined = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await client.get<T>(path);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };

  const api: KubeApi = {
    apply(obj) {
      const path = childPath(obj.kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      return ssa(path, obj);
    },

    create(obj) {
      if (!isChildKind(obj.kind)) throw new Error(`cannot handle kind ${obj.kind}`);
      return client.request<KubernetesObject>(
        'POST',
        collectionPath(obj.kind, obj.metadata?.namespace ?? ''),
        {
          query: { fieldManager: FIELD_MANAGER },
          body: obj,
        },
      );
    },

    async applyStatus(w, status) {
      await ssa(objectPath('WebUI', w.metadata.namespace, w.metadata.name, 'status'), {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: w.metadata.name, namespace: w.metadata.namespace },
        status,
      });
    },

    readSecret: (namespace, name) => readOrUndefined<V1Secret>(objectPath('Secret', namespace, name)),

    read: (kind, namespace, name) => readOrUndefined<KubernetesObject>(childPath(kind, namespace, name)),

    async switchToRecreate(namespace, name) {
      await client.request('PATCH', objectPath('Deployment', namespace, name), {
        query: { fieldManager: FIELD_MANAGER },
        body: { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
        contentType: CONTENT_TYPE.merge,
      });
    },

    async delete(kind, namespace, name, uid) {
      try {
        // The uid precondition makes sure only the object we saw is deleted.
        await client.request('DELETE', childPath(kind, namespace, name), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid } },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },

    createEvent: (w, type, reason, message) =>
      recordEvent(
        client,
        reportingInstance,
        {
          apiVersion: API_VERSION,
          kind: KIND,
          name: w.metadata.name,
          namespace: w.metadata.namespace,
          uid: w.metadata.uid,
        },
        type,
        reason,
        message,
      ),
  };
  // A 409 only says the object moved while we wrote; applies carry no
  // resourceVersion, so the same intent is simply sent again.
  return {
    ...api,
    apply: (obj) => retryOnConflict(() => api.apply(obj)),
    applyStatus: (w, status) => retryOnConflict(() => api.applyStatus(w, status)),
  };
}
