/**
 * Applies the WebUI held by one seed ConfigMap (seed.ts says why the seed exists).
 *
 * Watches that one ConfigMap (field selector metadata.name, so RBAC can grant the watch by
 * resourceNames) and, on the leader, applies its WebUI with server-side apply under its own field
 * manager, with force: fields the seed sets follow the seed, fields others add survive. The live
 * WebUI is read first and nothing is written when it already holds what the seed asks for. It is
 * checked again every resync, so a deleted or edited WebUI comes back as the seed says. A seed that
 * does not parse, or that the API server refuses, gets a Warning Event on the ConfigMap and a log
 * line. A refused one is retried with backoff (0.5 s doubling to 5 min: a CRD upgrade may accept
 * it); one that does not parse waits for the seed to change, as no retry can fix it.
 *
 * Runs next to the WebUI controller under the same lifecycle (runtime/cached-queue.ts): every replica
 * keeps the watch warm, only the leader writes.
 */
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import type { ControllerObserver } from '../controller/controller.ts';
import type { Logger } from '../controller/reconcile.ts';
import { apiFailure, isNotFound } from '../kube/errors.ts';
import { type EventType, recordEvent } from '../kube/events.ts';
import { Informer, type ListResult, listPage } from '../kube/informer.ts';
import { type HandlerResult, PermanentError } from '../kube/queue.ts';
import { collectionPath, objectPath } from '../kube/resources.ts';
import { CONTENT_TYPE, type KubeTransport } from '../kube/rest.ts';
import { CachedQueue } from '../runtime/cached-queue.ts';
import { retryOnConflict } from '../runtime/retry-on-conflict.ts';
import { SEED_DATA_KEY, SEED_FIELD_MANAGER, seedNeedsApply, seedWebUI, takeoverRefusal } from './seed.ts';

export interface SeedApplierOptions {
  client: KubeTransport;
  /** The seed ConfigMap. */
  namespace: string;
  name: string;
  log: Logger;
  reportingInstance: string;
  /** How often the WebUI is checked against the seed without a change of the seed. Default 60 s. */
  resyncMs?: number;
  observer?: Pick<ControllerObserver, 'watchRestarted'>;
}

/** Why the seed was not applied; `warn` says whether it deserves a Warning Event. */
class SeedFailure extends Error {
  override name = 'SeedFailure';
  readonly reason: string;
  readonly warn: boolean;

  constructor(reason: string, message: string, warn: boolean) {
    super(message);
    this.reason = reason;
    this.warn = warn;
  }
}

/** Events repeat at most this often for the same reason and message (retries would repeat them). */
const EVENT_REPEAT_MS = 10 * 60_000;

export class SeedApplier extends CachedQueue {
  private readonly opts: SeedApplierOptions;
  private readonly informer: Informer<V1ConfigMap>;
  private readonly key: string;
  private lastEvent: { key: string; at: number } | undefined;

  constructor(opts: SeedApplierOptions) {
    const key = `${opts.namespace}/${opts.name}`;
    super({
      concurrency: 1,
      hooks: {
        onError: (_key, err) =>
          opts.log.warn(
            { seed: key, err: err instanceof Error ? err.message : String(err) },
            err instanceof PermanentError
              ? 'WebUI seed not applied; waiting for the seed to change'
              : 'WebUI seed not applied; retrying with backoff',
          ),
      },
    });
    this.opts = opts;
    this.key = key;
    const fieldSelector = `metadata.name=${opts.name}`;
    const path = collectionPath('ConfigMap', opts.namespace);
    this.informer = new Informer<V1ConfigMap>({
      resource: `configmaps/${key}`,
      watchPath: path,
      fieldSelector,
      watch: opts.client.watch,
      list: async (query) => listPage(await opts.client.get<ListResult>(path, { ...query, fieldSelector })),
      onChange: () => this.queue.add(key),
      hooks: {
        onRestart: (resource, reason) => opts.observer?.watchRestarted(resource, reason),
        onError: (resource, err) => {
          const f = apiFailure(err);
          const hint = f.code === 403 ? '; the operator lacks RBAC permission to list/watch its seed' : '';
          opts.log.warn(
            { resource, code: f.code, err: `${f.message}${hint}` },
            'list/watch failed; retrying',
          );
        },
      },
    });
  }

  protected caches(): Informer<V1ConfigMap>[] {
    return [this.informer];
  }

  /** One pass: read the seed from the cache and the WebUI from the API; apply only what differs. */
  protected async handle(): Promise<HandlerResult> {
    const seed = this.informer.get(this.opts.namespace, this.opts.name);
    // No seed (yet, or any more): nothing to do. Its watch event brings the next pass; a deleted
    // seed's WebUI is the garbage collector's.
    if (!seed) return {};
    try {
      return await this.applySeed(seed);
    } catch (e) {
      const failure =
        e instanceof SeedFailure ? e : new SeedFailure('SeedApplyFailed', apiFailure(e).message, false);
      if (failure.warn) await this.warn(seed, failure.reason, failure.message);
      // A seed that does not parse stays so until someone edits it; its watch event brings the next pass.
      throw failure.reason === 'SeedInvalid' ? new PermanentError(failure.message) : failure;
    }
  }

  private async applySeed(seed: V1ConfigMap): Promise<HandlerResult> {
    const resync = { requeueAfterMs: this.opts.resyncMs ?? 60_000 };
    const desired = seedWebUI(seed);
    if (!desired.ok) {
      throw new SeedFailure('SeedInvalid', `seed ${this.key} key ${SEED_DATA_KEY}: ${desired.error}`, true);
    }
    const name = desired.webui.metadata?.name ?? '';
    const path = objectPath('WebUI', this.opts.namespace, name);
    const live = await this.read(path, name);
    // Deleting (a finalizer holds it): applying now would only patch the doomed object.
    if (live?.metadata?.deletionTimestamp) return { requeueAfterMs: 2_000 };
    const refusal = live && takeoverRefusal(desired.webui, live);
    if (refusal) throw new SeedFailure('SeedConflict', `seed ${this.key}: ${refusal}`, true);
    if (!seedNeedsApply(desired.webui, live)) return resync;
    try {
      await retryOnConflict(() =>
        this.opts.client.request('PATCH', path, {
          query: { fieldManager: SEED_FIELD_MANAGER, force: true },
          body: desired.webui,
          contentType: CONTENT_TYPE.apply,
        }),
      );
    } catch (e) {
      throw this.failure(e, `seed ${this.key}: apply WebUI ${name}`);
    }
    this.opts.log.info(
      { seed: this.key, webui: `${this.opts.namespace}/${name}`, created: !live },
      'applied the WebUI from its seed',
    );
    return resync;
  }

  private async read(path: string, name: string): Promise<KubernetesObject | undefined> {
    try {
      return await this.opts.client.get<KubernetesObject>(path);
    } catch (e) {
      // Also what a missing CRD answers; the apply then says so.
      if (isNotFound(e)) return undefined;
      throw this.failure(e, `seed ${this.key}: read WebUI ${name}`);
    }
  }

  /**
   * A refusal by the API server (schema, CEL rules, RBAC) is worth an Event: it names the field
   * and stays until the seed changes. A missing CRD (404: still being created next to the
   * operator), throttling and server or network errors are passing, and only logged.
   */
  private failure(e: unknown, what: string): SeedFailure {
    const f = apiFailure(e);
    const hint =
      f.code === 404 ? '; is the WebUI CRD installed (crds.install, or crds/webui.dev_webuis.yaml)?' : '';
    const refused = f.code !== undefined && f.code >= 400 && f.code < 500 && f.code !== 404 && f.code !== 429;
    return new SeedFailure('SeedApplyFailed', `${what}: ${f.message}${hint}`, refused);
  }

  private async warn(seed: V1ConfigMap, reason: string, message: string): Promise<void> {
    const key = `${seed.metadata?.uid}/${reason}/${message}`;
    const now = Date.now();
    if (this.lastEvent?.key === key && now - this.lastEvent.at < EVENT_REPEAT_MS) return;
    this.lastEvent = { key, at: now };
    await this.event(seed, 'Warning', reason, message);
  }

  private async event(seed: V1ConfigMap, type: EventType, reason: string, message: string): Promise<void> {
    try {
      await recordEvent(
        this.opts.client,
        this.opts.reportingInstance,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: this.opts.name,
          namespace: this.opts.namespace,
          uid: seed.metadata?.uid,
        },
        type,
        reason,
        message,
      );
    } catch (e) {
      // An Event that cannot be recorded must not change what happens next.
      this.opts.log.warn({ seed: this.key, err: apiFailure(e).message, reason }, 'could not record event');
    }
  }
}
