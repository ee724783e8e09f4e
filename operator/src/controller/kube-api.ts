/** The writes and uncached reads the reconciler makes, behind an interface so tests can fake them. */
import {
  AppsV1Api,
  type Configuration,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Ingress,
  type V1PersistentVolumeClaim,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type WebUI,
  type WebUIStatus,
} from '../api/v1alpha1/webui.ts';
import { isNotFound } from '../kube/errors.ts';
import { FIELD_MANAGER } from '../render/meta.ts';
import { retryOnConflict } from '../runtime/retry-on-conflict.ts';

export type EventType = 'Normal' | 'Warning';

export interface KubeApi {
  /** Server-side apply of a child with the operator's field manager (force). Returns the live object. */
  apply(obj: KubernetesObject): Promise<KubernetesObject>;
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
  /** Deletes an Ingress the spec no longer wants (404 counts as done). */
  deleteIngress(namespace: string, name: string, uid: string): Promise<void>;
  createEvent(w: WebUI, type: EventType, reason: string, message: string): Promise<void>;
}

export interface ApiFactory {
  makeApiClient<T>(Api: new (c: Configuration) => T): T;
}

const SSA = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** JSON round trip: typed client-node models carry Date objects; the operator works on plain JSON. */
function plain<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

export function kubeApi(factory: ApiFactory, reportingInstance: string): KubeApi {
  const core = factory.makeApiClient(CoreV1Api);
  const apps = factory.makeApiClient(AppsV1Api);
  const net = factory.makeApiClient(NetworkingV1Api);
  const custom = factory.makeApiClient(CustomObjectsApi);
  const common = { fieldManager: FIELD_MANAGER, force: true };

  const api: KubeApi = {
    async apply(obj) {
      const name = obj.metadata?.name ?? '';
      const namespace = obj.metadata?.namespace ?? '';
      const p = { name, namespace, ...common };
      switch (obj.kind) {
        case 'Secret':
          return plain(await core.patchNamespacedSecret({ ...p, body: obj as V1Secret }, SSA));
        case 'PersistentVolumeClaim':
          return plain(
            await core.patchNamespacedPersistentVolumeClaim(
              { ...p, body: obj as V1PersistentVolumeClaim },
              SSA,
            ),
          );
        case 'Service':
          return plain(await core.patchNamespacedService({ ...p, body: obj as V1Service }, SSA));
        case 'Deployment':
          return plain(await apps.patchNamespacedDeployment({ ...p, body: obj as V1Deployment }, SSA));
        case 'Ingress':
          return plain(await net.patchNamespacedIngress({ ...p, body: obj as V1Ingress }, SSA));
        default:
          throw new Error(`cannot apply kind ${obj.kind}`);
      }
    },

    async applyStatus(w, status) {
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: w.metadata.namespace,
          name: w.metadata.name,
          ...common,
          body: {
            apiVersion: API_VERSION,
            kind: KIND,
            metadata: { name: w.metadata.name, namespace: w.metadata.namespace },
            status,
          },
        },
        SSA,
      );
    },

    async readSecret(namespace, name) {
      try {
        return plain(await core.readNamespacedSecret({ name, namespace }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },

    async read(kind, namespace, name) {
      const p = { name, namespace };
      try {
        switch (kind) {
          case 'Secret':
            return plain(await core.readNamespacedSecret(p));
          case 'PersistentVolumeClaim':
            return plain(await core.readNamespacedPersistentVolumeClaim(p));
          case 'Service':
            return plain(await core.readNamespacedService(p));
          case 'Deployment':
            return plain(await apps.readNamespacedDeployment(p));
          case 'Ingress':
            return plain(await net.readNamespacedIngress(p));
          default:
            throw new Error(`cannot read kind ${kind}`);
        }
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },

    async switchToRecreate(namespace, name) {
      await apps.patchNamespacedDeployment(
        {
          name,
          namespace,
          fieldManager: FIELD_MANAGER,
          body: { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
        },
        MERGE,
      );
    },

    async deleteIngress(namespace, name, uid) {
      try {
        // The uid precondition makes sure only the object we saw is deleted.
        await net.deleteNamespacedIngress({ name, namespace, body: { preconditions: { uid } } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },

    async createEvent(w, type, reason, message) {
      const now = new Date();
      await core.createNamespacedEvent({
        namespace: w.metadata.namespace,
        body: {
          metadata: { generateName: `${w.metadata.name}.`, namespace: w.metadata.namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: KIND,
            name: w.metadata.name,
            namespace: w.metadata.namespace,
            ...(w.metadata.uid ? { uid: w.metadata.uid } : {}),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    },
  };
  // A 409 only says the object moved while we wrote; applies carry no
  // resourceVersion, so the same intent is simply sent again.
  return {
    ...api,
    apply: (obj) => retryOnConflict(() => api.apply(obj)),
    applyStatus: (w, status) => retryOnConflict(() => api.applyStatus(w, status)),
  };
}
