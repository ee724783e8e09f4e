/**
 * Wires the informers (WebUI, every owned kind, and the metadata of Secrets
 * a WebUI references) to the work queue and the
 * reconciler, controller-runtime style: events only enqueue the owner's key;
 * workers reconcile keys one at a time each.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { apiFailure } from '../kube/errors.ts';
import { EventDeduplicator } from '../kube/event-deduplicator.ts';
import { Informer, type InformerHooks, type ListResult, listPage } from '../kube/informer.ts';
import { PermanentError } from '../kube/queue.ts';
import { collectionPath, RESOURCES, type ResourceKind } from '../kube/resources.ts';
import { CONTENT_TYPE, type KubeTransport } from '../kube/rest.ts';
import {
  FIELD_MANAGER,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  MANAGED_SELECTOR,
} from '../render/meta.ts';
import { readsSecret } from '../render/secret-refs.ts';
import { CachedQueue } from '../runtime/cached-queue.ts';
import { CHILD_KINDS, type ChildKind } from './child-kinds.ts';
import { type KubeApi, kubeApi } from './kube-api.ts';
import { OllamaProber } from './ollama.ts';
import { slimPod } from './pod-problems.ts';
import { ReadYourWrites } from './read-your-writes.ts';
import { type Logger, Reconciler } from './reconcile.ts';

/** Receives controller telemetry (prom-client metrics in the operator process). */
export interface ControllerObserver {
  reconciled(result: 'success' | 'error' | 'requeue', seconds: number): void;
  queueDepth(depth: number): void;
  queueAdded(): void;
  watchRestarted(resource: string, reason: string): void;
}

export interface ControllerOptions {
  /** Lists, watches and (unless `api` is given) writes go through it. */
  client: KubeTransport;
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

/** The kinds the controller caches: the WebUIs and every kind it owns. */
const WATCHED: readonly (ChildKind | 'WebUI')[] = ['WebUI', ...CHILD_KINDS];

/** Informer-map key of the metadata-only cache of Secrets the operator does not manage. */
const REFERENCED_SECRETS = 'ReferencedSecret';

/** Informer-map key of the cache of the WebUIs' pods, status only. */
const POD_STATUS = 'PodStatus';

export class WebUIController extends CachedQueue {
  private readonly opts: ControllerOptions;
  private readonly informers = new Map<string, Informer<KubernetesObject>[]>();
  private readonly reconciler: Reconciler;
  /** Shared with the reconciler: the watch events here tell it when the cache caught up. */
  private readonly writes = new ReadYourWrites();

  constructor(opts: ControllerOptions) {
    const observer = opts.observer;
    super({
      concurrency: opts.concurrency ?? 4,
      hooks: {
        onDepth: (d) => observer?.queueDepth(d),
        onAdd: () => observer?.queueAdded(),
        onDone: (_k, result, seconds) => observer?.reconciled(result, seconds),
        onError: (key, err) =>
          opts.log.warn(
            { webui: key, err: err instanceof Error ? err.message : String(err) },
            err instanceof PermanentError
              ? 'reconcile failed; waiting for the WebUI to change'
              : 'reconcile failed; retrying with backoff',
          ),
      },
    });
    this.opts = opts;
    const api = opts.api ?? kubeApi(opts.client, opts.reportingInstance ?? 'webui-operator');
    this.reconciler = new Reconciler({
      cache: {
        webui: (ns, name) => this.find('WebUI', ns, name) as WebUI | undefined,
        child: (kind, ns, name) => this.find(kind, ns, name),
        pods: (ns, instance) =>
          (this.informers.get(POD_STATUS) ?? [])
            .flatMap((inf) => inf.list() as V1Pod[])
            .filter((p) => p.metadata?.namespace === ns && p.metadata?.labels?.[LABEL_INSTANCE] === instance),
      },
      api,
      writes: this.writes,
      recordedEvents: new EventDeduplicator(),
      prober: opts.prober ?? new OllamaProber(),
      defaultImage: opts.defaultImage,
      log: opts.log,
      ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}),
    });
    const scopes = opts.namespaces.length > 0 ? opts.namespaces : [undefined];
    for (const kind of WATCHED) {
      this.informers.set(
        kind,
        scopes.map((ns) => this.informer(kind, ns)),
      );
    }
    this.informers.set(
      REFERENCED_SECRETS,
      scopes.map((ns) => this.referencedSecretsInformer(ns)),
    );
    this.informers.set(
      POD_STATUS,
      scopes.map((ns) => this.podInformer(ns)),
    );
  }

  /**
   * The pods of the WebUIs' Deployments (they carry the operator's label), read
   * only, to say why a rollout does not progress (pod-problems.ts). Each pod is
   * cut down to its identity and status before it is cached.
   */
  private podInformer(ns: string | undefined): Informer<KubernetesObject> {
    return new Informer<KubernetesObject>({
      resource: ns ? `pods/${ns}` : 'pods',
      watchPath: collectionPath('Pod', ns),
      labelSelector: MANAGED_SELECTOR,
      watch: this.opts.client.watch,
      list: async (query) =>
        listPage(
          await this.opts.client.get<ListResult>(collectionPath('Pod', ns), {
            ...query,
            labelSelector: MANAGED_SELECTOR,
          }),
        ),
      transform: (pod) => slimPod(pod as V1Pod),
      onChange: (_type, pod, old) => {
        // Pods change often (every probe result); only a change of what podProblems reads matters.
        if (
          old &&
          JSON.stringify((old as V1Pod).status ?? {}) === JSON.stringify((pod as V1Pod).status ?? {})
        )
          return;
        const owner = pod.metadata?.labels?.[LABEL_INSTANCE];
        if (owner && pod.metadata?.labels?.[LABEL_NAME] === 'webui') {
          this.queue.add(`${pod.metadata?.namespace}/${owner}`);
        }
      },
      hooks: this.watchHooks(false),
    });
  }

  /**
   * Metadata of the Secrets this operator does not manage (a user's key or
   * database URL): when one changes, the WebUIs that read it reconcile and
   * roll at once instead of at the next resync. Metadata only, so no Secret
   * value is held in memory.
   */
  private referencedSecretsInformer(ns: string | undefined): Informer<KubernetesObject> {
    const labelSelector = `${LABEL_MANAGED_BY}!=${FIELD_MANAGER}`;
    return new Informer<KubernetesObject>({
      resource: ns ? `referenced-secrets/${ns}` : 'referenced-secrets',
      watchPath: collectionPath('Secret', ns),
      labelSelector,
      watchAccept: CONTENT_TYPE.metadata,
      watch: this.opts.client.watch,
      list: async (query) =>
        listPage(
          await this.opts.client.get<ListResult>(
            collectionPath('Secret', ns),
            { ...query, labelSelector },
            CONTENT_TYPE.metadataList,
          ),
        ),
      onChange: (_type, secret) => {
        const namespace = secret.metadata?.namespace ?? '';
        const name = secret.metadata?.name ?? '';
        for (const inf of this.informers.get('WebUI') ?? []) {
          for (const w of inf.list() as WebUI[]) {
            if (w.metadata.namespace === namespace && readsSecret(w, name)) {
              this.queue.add(`${namespace}/${w.metadata.name}`);
            }
          }
        }
      },
      hooks: this.watchHooks(false),
    });
  }

  private find(kind: string, ns: string, name: string): KubernetesObject | undefined {
    for (const inf of this.informers.get(kind) ?? []) {
      const o = inf.get(ns, name);
      if (o) return o;
    }
    return undefined;
  }

  private informer(kind: ResourceKind, ns: string | undefined): Informer<KubernetesObject> {
    const primary = kind === 'WebUI';
    const resource = RESOURCES[kind].plural;
    // Owned kinds are watched only where this operator's label is set, to keep the caches small.
    const labelSelector = primary ? undefined : MANAGED_SELECTOR;
    return new Informer<KubernetesObject>({
      resource: ns ? `${resource}/${ns}` : resource,
      watchPath: collectionPath(kind, ns),
      ...(labelSelector ? { labelSelector } : {}),
      watch: this.opts.client.watch,
      list: async (query) =>
        listPage(
          await this.opts.client.get<ListResult>(collectionPath(kind, ns), { ...query, labelSelector }),
        ),
      onChange: (type, obj, old) => {
        if (primary) {
          this.writes.forgetStatus(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
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
        this.writes.forgetChild(kind as ChildKind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
        const owner = obj.metadata?.labels?.[LABEL_INSTANCE];
        if (owner && obj.metadata?.labels?.[LABEL_NAME] === 'webui') {
          this.queue.add(`${obj.metadata?.namespace}/${owner}`);
        }
      },
      hooks: this.watchHooks(primary),
    });
  }

  private watchHooks(primary: boolean): InformerHooks {
    return {
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
    };
  }

  protected handle(key: string) {
    const [ns, name] = key.split('/') as [string, string];
    return this.reconciler.reconcile(ns, name);
  }

  protected caches(): Informer<KubernetesObject>[] {
    return [...this.informers.values()].flat();
  }
}
