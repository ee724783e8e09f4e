/**
 * Wires the informers (WebUI plus every owned kind) to the work queue and the
 * reconciler, controller-runtime style: events only enqueue the owner's key;
 * workers reconcile keys one at a time each.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  NetworkingV1Api,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type WebUI } from '../api/v1alpha1/webui.ts';
import { apiFailure } from '../kube/errors.ts';
import { Informer, type ListPage, type WatchFn } from '../kube/informer.ts';
import { WorkQueue } from '../kube/queue.ts';
import { LABEL_INSTANCE, LABEL_NAME, MANAGED_SELECTOR } from '../render/meta.ts';
import { type ApiFactory, type KubeApi, kubeApi } from './kube-api.ts';
import { OllamaProber } from './ollama.ts';
import { type ChildKind, type Logger, Reconciler } from './reconcile.ts';

/** Receives controller telemetry (prom-client metrics in the operator process). */
export interface ControllerObserver {
  reconciled(result: 'success' | 'error' | 'requeue', seconds: number): void;
  queueDepth(depth: number): void;
  queueAdded(): void;
  watchRestarted(resource: string, reason: string): void;
}

export interface ControllerOptions {
  factory: ApiFactory;
  watch: WatchFn;
  /** Namespaces to watch; empty means all. */
  namespaces: readonly string[];
  defaultImage: string;
  log: Logger;
  prober?: OllamaProber;
  api?: KubeApi;
  observer?: ControllerObserver;
  concurrency?: number;
  resyncMs?: number;
  reportingInstance?: string;
}

type ListResult = {
  items?: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
};

function page<T>(list: ListResult): ListPage<T> {
  const plain = JSON.parse(JSON.stringify(list)) as ListResult;
  const cont = plain.metadata?._continue ?? plain.metadata?.continue;
  return {
    items: (plain.items ?? []) as T[],
    resourceVersion: plain.metadata?.resourceVersion ?? '',
    ...(cont ? { continue: cont } : {}),
  };
}

interface KindSpec {
  kind: ChildKind | 'WebUI';
  resource: string;
  /** Watch path for a namespace, or all namespaces when undefined. */
  path(ns: string | undefined): string;
  list(
    ns: string | undefined,
    q: { limit: number; _continue?: string; labelSelector?: string },
  ): Promise<ListResult>;
}

export class WebUIController {
  private readonly opts: ControllerOptions;
  private readonly informers = new Map<string, Informer<KubernetesObject>[]>();
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private workers = false;

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    const api = opts.api ?? kubeApi(opts.factory, opts.reportingInstance ?? 'webui-operator');
    this.reconciler = new Reconciler({
      cache: {
        webui: (ns, name) => this.find('WebUI', ns, name) as WebUI | undefined,
        child: (kind, ns, name) => this.find(kind, ns, name),
      },
      api,
      prober: opts.prober ?? new OllamaProber(),
      defaultImage: opts.defaultImage,
      log: opts.log,
      ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}),
    });
    const observer = opts.observer;
    this.queue = new WorkQueue({
      concurrency: opts.concurrency ?? 4,
      handler: (key) => {
        const [ns, name] = key.split('/') as [string, string];
        return this.reconciler.reconcile(ns, name);
      },
      hooks: {
        onDepth: (d) => observer?.queueDepth(d),
        onAdd: () => observer?.queueAdded(),
        onDone: (_k, result, seconds) => observer?.reconciled(result, seconds),
        onError: (key, err) =>
          opts.log.warn(
            { webui: key, err: err instanceof Error ? err.message : String(err) },
            'reconcile failed; retrying with backoff',
          ),
      },
    });
    for (const spec of this.kinds()) {
      const list: Informer<KubernetesObject>[] = [];
      const scopes = opts.namespaces.length > 0 ? opts.namespaces : [undefined];
      for (const ns of scopes) list.push(this.informer(spec, ns));
      this.informers.set(spec.kind, list);
    }
  }

  private find(kind: string, ns: string, name: string): KubernetesObject | undefined {
    for (const inf of this.informers.get(kind) ?? []) {
      const o = inf.get(ns, name);
      if (o) return o;
    }
    return undefined;
  }

  private kinds(): KindSpec[] {
    const f = this.opts.factory;
    const core = f.makeApiClient(CoreV1Api);
    const apps = f.makeApiClient(AppsV1Api);
    const net = f.makeApiClient(NetworkingV1Api);
    const custom = f.makeApiClient(CustomObjectsApi);
    const nsPath = (prefix: string, res: string) => (ns: string | undefined) =>
      ns ? `${prefix}/namespaces/${ns}/${res}` : `${prefix}/${res}`;
    return [
      {
        kind: 'WebUI',
        resource: PLURAL,
        path: nsPath(`/apis/${GROUP}/${VERSION}`, PLURAL),
        list: (ns, q) =>
          ns
            ? custom.listNamespacedCustomObject({
                group: GROUP,
                version: VERSION,
                plural: PLURAL,
                namespace: ns,
                ...q,
              })
            : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, ...q }),
      },
      {
        kind: 'Deployment',
        resource: 'deployments',
        path: nsPath('/apis/apps/v1', 'deployments'),
        list: (ns, q) =>
          ns
            ? apps.listNamespacedDeployment({ namespace: ns, ...q })
            : apps.listDeploymentForAllNamespaces(q),
      },
      {
        kind: 'Service',
        resource: 'services',
        path: nsPath('/api/v1', 'services'),
        list: (ns, q) =>
          ns ? core.listNamespacedService({ namespace: ns, ...q }) : core.listServiceForAllNamespaces(q),
      },
      {
        kind: 'Secret',
        resource: 'secrets',
        path: nsPath('/api/v1', 'secrets'),
        list: (ns, q) =>
          ns ? core.listNamespacedSecret({ namespace: ns, ...q }) : core.listSecretForAllNamespaces(q),
      },
      {
        kind: 'PersistentVolumeClaim',
        resource: 'persistentvolumeclaims',
        path: nsPath('/api/v1', 'persistentvolumeclaims'),
        list: (ns, q) =>
          ns
            ? core.listNamespacedPersistentVolumeClaim({ namespace: ns, ...q })
            : core.listPersistentVolumeClaimForAllNamespaces(q),
      },
      {
        kind: 'Ingress',
        resource: 'ingresses',
        path: nsPath('/apis/networking.k8s.io/v1', 'ingresses'),
        list: (ns, q) =>
          ns ? net.listNamespacedIngress({ namespace: ns, ...q }) : net.listIngressForAllNamespaces(q),
      },
    ];
  }

  private informer(spec: KindSpec, ns: string | undefined): Informer<KubernetesObject> {
    const primary = spec.kind === 'WebUI';
    // Owned kinds are watched only where this operator's label is set, to keep the caches small.
    const labelSelector = primary ? undefined : MANAGED_SELECTOR;
    return new Informer<KubernetesObject>({
      resource: ns ? `${spec.resource}/${ns}` : spec.resource,
      watchPath: spec.path(ns),
      ...(labelSelector ? { labelSelector } : {}),
      watch: this.opts.watch,
      list: async ({ limit, continue: cont }) =>
        page(
          await spec.list(ns, {
            limit,
            ...(cont ? { _continue: cont } : {}),
            ...(labelSelector ? { labelSelector } : {}),
          }),
        ),
      onChange: (type, obj, old) => {
        if (primary) {
          this.reconciler.forgetStatus(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
          // Our own status writes change neither generation nor deletion: skip them.
          const changed =
            type !== 'update' ||
            obj.metadata?.generation !== old?.metadata?.generation ||
            (obj.metadata?.deletionTimestamp === undefined) !==
              (old?.metadata?.deletionTimestamp === undefined);
          if (changed) this.queue.add(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
          return;
        }
        // The cache now shows this object at least as new as our last write to it.
        this.reconciler.forget(
          spec.kind as ChildKind,
          obj.metadata?.namespace ?? '',
          obj.metadata?.name ?? '',
        );
        const owner = obj.metadata?.labels?.[LABEL_INSTANCE];
        if (owner && obj.metadata?.labels?.[LABEL_NAME] === 'webui') {
          this.queue.add(`${obj.metadata?.namespace}/${owner}`);
        }
      },
      hooks: {
        onRestart: (resource, reason) => this.opts.observer?.watchRestarted(resource, reason),
        onError: (resource, err) => {
          const f = apiFailure(err);
          const hint =
            primary && f.code === 404
              ? '; is the WebUI CRD installed? kubectl apply -f crds/webui.dev_webuis.yaml'
              : f.code === 403
                ? '; the operator lacks RBAC permission to list/watch it'
                : '';
          this.opts.log.warn(
            { resource, code: f.code, err: `${f.message}${hint}` },
            'list/watch failed; retrying',
          );
        },
      },
    });
  }

  private all(): Informer<KubernetesObject>[] {
    return [...this.informers.values()].flat();
  }

  startInformers(): void {
    for (const i of this.all()) i.start();
  }

  hasSynced(): boolean {
    return this.all().every((i) => i.hasSynced());
  }

  /** Starts the workers once every cache has synced (reconciling from a partial cache would recreate objects). */
  startWorkers(): void {
    if (this.workers) return;
    this.workers = true;
    const begin = () => {
      if (!this.workers) return;
      if (this.hasSynced()) this.queue.start();
      else setTimeout(begin, 50).unref();
    };
    begin();
  }

  workersRunning(): boolean {
    return this.workers && this.hasSynced();
  }

  async drain(deadlineMs = 20_000): Promise<void> {
    this.workers = false;
    await this.queue.shutdown(deadlineMs);
  }

  async stopInformers(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  watchSilenceMs(): Record<string, number> {
    return Object.fromEntries(this.all().map((i) => [i.resource, i.silenceMs()]));
  }

  /** Starts everything (single replica, no leader election). */
  start(): void {
    this.startInformers();
    this.startWorkers();
  }

  async stop(): Promise<void> {
    await this.drain();
    await this.stopInformers();
  }

  /** For tests: resolves when no reconcile is waiting or running. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }
}
