import { describe, expect, it } from 'vitest';
import type { WatchFn } from '../kube/informer.ts';
import { CONTENT_TYPE, type KubeTransport } from '../kube/rest.ts';
import { WebUIController } from './controller.ts';
import type { KubeApi } from './kube-api.ts';
import { OllamaProber } from './ollama.ts';

type Open = Map<string, (type: string, obj: unknown) => void>;

/** Every list is empty; watches are driven by the test, keyed by path (+ " metadata <selector>"). */
function fakeClient(): KubeTransport & { open: Open } {
  const { watch, open } = fakeWatches();
  const empty = async <T>() => ({ items: [], metadata: { resourceVersion: '1' } }) as T;
  return Object.assign({ request: empty, get: empty, watch }, { open });
}

function fakeWatches() {
  const open: Open = new Map();
  const watch: WatchFn = async (path, query, onEvent, done, accept) => {
    open.set(accept === CONTENT_TYPE.metadata ? `${path} metadata ${query.labelSelector}` : path, onEvent);
    const ctrl = new AbortController();
    ctrl.signal.addEventListener('abort', () =>
      done(Object.assign(new Error('aborted'), { name: 'AbortError' })),
    );
    return ctrl;
  };
  return { watch, open };
}

const webui = (generation: number, status?: object) => ({
  apiVersion: 'webui.dev/v1alpha1',
  kind: 'WebUI',
  metadata: { name: 'chat', namespace: 'ns', uid: 'u', generation, resourceVersion: String(generation * 10) },
  spec: { ollama: { baseUrl: 'http://localhost:1' } },
  ...(status ? { status } : {}),
});

/** A started controller over the fake client, with every watch open and the workers running. */
async function startedController() {
  const api: KubeApi = {
    apply: async (o) => o,
    create: async (o) => o,
    applyStatus: async () => {},
    readSecret: async () => undefined,
    read: async () => undefined,
    switchToRecreate: async () => {},
    delete: async () => {},
    createEvent: async () => {},
  };
  const client = fakeClient();
  const stats = { runs: 0 };
  const quiet = () => {};
  const controller = new WebUIController({
    client,
    namespaces: ['ns'],
    defaultImage: 'img',
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    api,
    prober: new OllamaProber(),
    observer: {
      reconciled: () => {
        stats.runs++;
      },
      queueDepth: () => {},
      queueAdded: () => {},
      watchRestarted: () => {},
    },
  });
  controller.start();
  while (client.open.size < 10) await new Promise((r) => setTimeout(r, 5));
  while (!controller.workersRunning()) await new Promise((r) => setTimeout(r, 5));
  return { api, controller, open: client.open, stats };
}

describe('WebUIController', () => {
  it('maps events to WebUI keys: owned children by label, and skips status-only WebUI updates', async () => {
    const reconciled: string[] = [];
    const { api, controller, open, stats } = await startedController();
    // Count reconciles through the API: every reconcile of a new WebUI writes status.
    api.applyStatus = async (w) => {
      reconciled.push(`${w.metadata.namespace}/${w.metadata.name}`);
    };
    expect([...open.keys()].sort()).toEqual([
      '/api/v1/namespaces/ns/persistentvolumeclaims',
      '/api/v1/namespaces/ns/pods',
      '/api/v1/namespaces/ns/secrets',
      '/api/v1/namespaces/ns/secrets metadata app.kubernetes.io/managed-by!=webui-operator',
      '/api/v1/namespaces/ns/services',
      '/apis/apps/v1/namespaces/ns/deployments',
      '/apis/networking.k8s.io/v1/namespaces/ns/ingresses',
      '/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies',
      '/apis/policy/v1/namespaces/ns/poddisruptionbudgets',
      '/apis/webui.dev/v1alpha1/namespaces/ns/webuis',
    ]);
    const webuis = open.get('/apis/webui.dev/v1alpha1/namespaces/ns/webuis');
    const deployments = open.get('/apis/apps/v1/namespaces/ns/deployments');
    webuis?.('ADDED', webui(1));
    await controller.whenIdle();
    expect(reconciled).toEqual(['ns/chat']);
    expect(stats.runs).toBe(1);

    // A status-only update (same generation) does not enqueue; a spec change does.
    webuis?.('MODIFIED', webui(1, { observedGeneration: 1 }));
    await controller.whenIdle();
    expect(stats.runs).toBe(1);
    webuis?.('MODIFIED', webui(2));
    await controller.whenIdle();
    expect(stats.runs).toBe(2);

    // A child's event reconciles its WebUI (named by the instance label); foreign objects do not.
    deployments?.('MODIFIED', {
      metadata: {
        name: 'chat-backend',
        namespace: 'ns',
        resourceVersion: '99',
        labels: { 'app.kubernetes.io/name': 'webui', 'app.kubernetes.io/instance': 'chat' },
      },
    });
    deployments?.('ADDED', {
      metadata: { name: 'other', namespace: 'ns', resourceVersion: '100', labels: {} },
    });
    await controller.whenIdle();
    expect(stats.runs).toBe(3);
    await controller.stop();
  });

  it('reconciles the WebUIs that read a user Secret when its metadata changes, and only those', async () => {
    const reconciled: string[] = [];
    const { api, controller, open } = await startedController();
    const webuis = open.get('/apis/webui.dev/v1alpha1/namespaces/ns/webuis');
    const secrets = open.get(
      '/api/v1/namespaces/ns/secrets metadata app.kubernetes.io/managed-by!=webui-operator',
    );
    const withRefs = (name: string, spec: object) => ({
      ...webui(1),
      metadata: { ...webui(1).metadata, name, uid: name },
      spec: { ollama: { baseUrl: 'http://localhost:1' }, ...spec },
    });
    webuis?.('ADDED', withRefs('pg', { database: { urlSecretRef: { name: 'db-url', key: 'url' } } }));
    webuis?.('ADDED', withRefs('own-key', { auth: { secretKeyRef: { name: 'my-key', key: 'k' } } }));
    webuis?.('ADDED', withRefs('plain', {}));
    await controller.whenIdle();
    api.applyStatus = async () => {};
    api.readSecret = async (_ns, name) => {
      reconciled.push(name);
      return undefined;
    };

    const secret = (name: string, rv: string, namespace = 'ns') => ({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: { name, namespace, resourceVersion: rv },
    });
    // Each reconcile reads the Secrets of its WebUI: pg its generated key and db-url, own-key my-key.
    secrets?.('ADDED', secret('db-url', '5'));
    await controller.whenIdle();
    expect(reconciled).toEqual(['pg-secret-key', 'db-url']);
    secrets?.('MODIFIED', secret('my-key', '6'));
    await controller.whenIdle();
    expect(reconciled).toEqual(['pg-secret-key', 'db-url', 'my-key']);
    // A Secret nobody references, and a same-named Secret in another namespace, reconcile nothing.
    secrets?.('MODIFIED', secret('unrelated', '7'));
    secrets?.('MODIFIED', secret('db-url', '8', 'elsewhere'));
    await controller.whenIdle();
    expect(reconciled).toEqual(['pg-secret-key', 'db-url', 'my-key']);
    secrets?.('DELETED', secret('db-url', '9'));
    await controller.whenIdle();
    expect(reconciled).toEqual(['pg-secret-key', 'db-url', 'my-key', 'pg-secret-key', 'db-url']);
    await controller.stop();
  });
});
