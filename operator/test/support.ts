/** Helpers shared by the operator's integration tests (real control plane, in-process controller). */

import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { applyCrdFile, type ControlPlane, startControlPlane } from '../../test/harness/control-plane.ts';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type WebUI,
  type WebUISpecInput,
} from '../src/api/v1alpha1/webui.ts';
import { WebUIController } from '../src/controller/controller.ts';
import { type FetchFn, OllamaProber } from '../src/controller/ollama.ts';
import { loadKubeConnection } from '../src/kube/kubeconfig.ts';
import { KubeClient } from '../src/kube/rest.ts';
import { WATCH_IDLE_MS } from '../src/main.ts';

export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The operator's own API client, configured from a kubeconfig file as the operator process would be. */
export async function kubeClientFor(kubeconfigPath: string, timeoutMs = 10_000): Promise<KubeClient> {
  const conn = await loadKubeConnection({ env: { KUBECONFIG: kubeconfigPath } });
  return new KubeClient(conn, { timeoutMs, watchIdleMs: WATCH_IDLE_MS });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function clients(kc: KubeConfig) {
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

export type Clients = ReturnType<typeof clients>;

export async function createWebUI(
  c: Clients,
  namespace: string,
  name: string,
  spec: WebUISpecInput,
): Promise<WebUI> {
  return (await c.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec },
  })) as WebUI;
}

export async function getWebUI(c: Clients, namespace: string, name: string): Promise<WebUI> {
  return (await c.custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    name,
  })) as WebUI;
}

export async function patchWebUI(c: Clients, namespace: string, name: string, patch: object): Promise<WebUI> {
  return (await c.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: patch },
    MERGE,
  )) as WebUI;
}

export async function deployment(
  c: Clients,
  namespace: string,
  name: string,
): Promise<V1Deployment | undefined> {
  try {
    return await c.apps.readNamespacedDeployment({ name, namespace });
  } catch {
    return undefined;
  }
}

/**
 * There is no kubelet: mark the pods the ReplicaSet controller created as
 * running and ready, so the Deployment controller reports the rollout as done.
 */
export async function markPodsReady(c: Clients, namespace: string, labelSelector: string): Promise<number> {
  const pods = await c.core.listNamespacedPod({ namespace, labelSelector });
  let marked = 0;
  for (const p of pods.items) {
    if (p.metadata?.deletionTimestamp) continue;
    if (p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) continue;
    const now = new Date().toISOString();
    await c.core.patchNamespacedPodStatus(
      {
        name: p.metadata?.name ?? '',
        namespace,
        body: {
          status: {
            phase: 'Running',
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: 'True', lastTransitionTime: now },
            ],
          },
        },
      },
      MERGE,
    );
    marked++;
  }
  return marked;
}

/** Runs the controller in this process, with a fetch that maps fake Ollama host names to local ports. */
export async function startController(
  kubeconfigPath: string,
  opts: { namespaces: string[]; hosts: Record<string, string>; resyncMs?: number },
): Promise<WebUIController> {
  const fetchFn: FetchFn = (url, init) => {
    const u = new URL(url);
    const mapped = opts.hosts[u.host];
    return fetch(mapped ? `${mapped}${u.pathname}` : url, init);
  };
  const quiet = () => {};
  const controller = new WebUIController({
    client: await kubeClientFor(kubeconfigPath),
    namespaces: opts.namespaces,
    defaultImage: 'ghcr.io/webui-operator/webui:test',
    log: { debug: quiet, info: quiet, warn: quiet, error: (o, m) => console.error(m, o) },
    prober: new OllamaProber({ fetch: fetchFn, timeoutMs: 2000, ttlMs: 1000 }),
    resyncMs: opts.resyncMs ?? 2000,
  });
  controller.start();
  return controller;
}

/** A controllerWorld for one test file: started before its tests, stopped after them. */
export function useControllerWorld(namespace: string): { readonly c: Clients; readonly cp: ControlPlane } {
  let world: Awaited<ReturnType<typeof controllerWorld>> | undefined;
  beforeAll(async () => {
    world = await controllerWorld(namespace);
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
  });
  const started = () => {
    if (!world) throw new Error('the controller world has not started');
    return world;
  };
  return {
    get c() {
      return started().c;
    },
    get cp() {
      return started().cp;
    },
  };
}

/**
 * A control plane with the controller manager (so Deployments get pods), the CRD, one namespace
 * and the controller watching it: the world of the tests that need pods but no kubelet.
 */
export async function controllerWorld(namespace: string): Promise<{
  cp: ControlPlane;
  c: Clients;
  controller: WebUIController;
  stop(): Promise<void>;
}> {
  const cp = await startControlPlane({ controllerManager: true });
  try {
    await applyCrdFile(cp, join(import.meta.dirname, '..', '..', 'crds', 'webui.dev_webuis.yaml'));
    const c = clients(cp.kubeConfig);
    await c.core.createNamespace({ body: { metadata: { name: namespace } } });
    const controller = await startController(cp.kubeconfigPath, { namespaces: [namespace], hosts: {} });
    return {
      cp,
      c,
      controller,
      stop: async () => {
        await controller.stop();
        await cp.stop();
      },
    };
  } catch (e) {
    await cp.stop();
    throw e;
  }
}
