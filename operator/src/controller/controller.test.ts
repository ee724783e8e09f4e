import { describe, expect, it } from 'vitest';
import type { WatchFn } from '../kube/informer.ts';
import type { KubeTransport } from '../kube/rest.ts';
import { WebUIController } from './controller.ts';
import type { KubeApi } from './kube-api.ts';
import { OllamaProber } from './ollama.ts';

/** Every list is empty; watches are driven by the test. */
function fakeClient(): KubeTransport {
  const { watch, open } = fakeWatches();
  const empty = async <T>() => ({ items: [], metadata: { resourceVersion: '1' } }) as T;
  return Object.assign({ request: empty, get: empty, watch }, { open });
}

function fakeWatches() {
  const open = new Map<string, (type: string, obj: unknown) => void>();
  const watch: WatchFn = async (path, _query, onEvent, done) => {
    open.set(path, onEvent);
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

describe('WebUIController', () => {
  it('maps events to WebUI keys: owned children by label, and skips status-only WebUI updates', async () => {
    const reconciled: string[] = [];
    let runs = 0;
    const api: KubeApi = {
      apply: async (o) => o,
      applyStatus: async () => {},
      readSecret: async () => undefined,
      read: async () => undefined,
      switchToRecreate: async () => {},
      deleteIngress: async () => {},
      createEvent: async () => {},
    };
    const client = fakeClient();
    const { open } = client as KubeTransport & { open: Map<string, (type: string, obj: unknown) => void> };
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
          runs++;
        },
        queueDepth: () => {},
        queueAdded: () => {},
        watchRestarted: () => {},
      },
    });
    // Count reconciles through the API: every reconcile of a new WebUI writes status.
    api.applyStatus = async (w) => {
      reconciled.push(`${w.metadata.namespace}/${w.metadata.name}`);
    };
    controller.start();
    while (open.size < 6) await new Promise((r) => setTimeout(r, 5));
    while (!controller.workersRunning()) await new Promise((r) => setTimeout(r, 5));
    expect([...open.keys()].sort()).toEqual([
      '/api/v1/namespaces/ns/persistentvolumeclaims',
      '/api/v1/namespaces/ns/secrets',
      '/api/v1/namespaces/ns/services',
      '/apis/apps/v1/namespaces/ns/deployments',
      '/apis/networking.k8s.io/v1/namespaces/ns/ingresses',
      '/apis/webui.dev/v1alpha1/namespaces/ns/webuis',
    ]);
    const webuis = open.get('/apis/webui.dev/v1alpha1/namespaces/ns/webuis');
    const deployments = open.get('/apis/apps/v1/namespaces/ns/deployments');
    webuis?.('ADDED', webui(1));
    await controller.whenIdle();
    expect(reconciled).toEqual(['ns/chat']);
    expect(runs).toBe(1);

    // A status-only update (same generation) does not enqueue; a spec change does.
    webuis?.('MODIFIED', webui(1, { observedGeneration: 1 }));
    await controller.whenIdle();
    expect(runs).toBe(1);
    webuis?.('MODIFIED', webui(2));
    await controller.whenIdle();
    expect(runs).toBe(2);

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
    expect(runs).toBe(3);
    await controller.stop();
  });
});
