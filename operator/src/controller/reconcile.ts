/**
 * Level-triggered reconcile of one WebUI: read it from the cache, render the
 * desired children, server-side apply only what drifted, observe, and write
 * status only when it changed. Knows nothing about watches or queues, and
 * keeps no state of its own: which Events were recorded lately and which
 * writes the cache has not shown yet are collaborators it is given.
 *
 * Failures: a spec that cannot be rendered is permanent (UnrenderableSpecError:
 * reported as Degraded, then nothing until the WebUI is edited); everything
 * else is passing (ReconcileError: retried with backoff).
 */
import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
} from '@kubernetes/client-node';
import { MIN_SECRET_KEY_BYTES, settings } from '#contract';
import {
  CONDITION_TYPES,
  type ConditionType,
  defaultSpec,
  type WebUI,
  type WebUIStatus,
} from '../api/v1alpha1/webui.ts';
import { APPLIED_HASH_ANNOTATION, needsApply, stampApplied } from '../kube/drift.ts';
import { apiFailure } from '../kube/errors.ts';
import type { EventDeduplicator } from '../kube/event-deduplicator.ts';
import { PermanentError } from '../kube/queue.ts';
import { ollamaUrls } from '../render/backend.ts';
import { sha256Hex } from '../render/config-hash.ts';
import { type Desired, renderAll } from '../render/index.ts';
import {
  CONFIG_HASH_ANNOTATION,
  FIELD_MANAGER,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  names,
} from '../render/meta.ts';
import { publicUrl } from '../render/network.ts';
import { generateSecretKey, managesSecretKey, SECRET_KEY_KEY } from '../render/secret-key.ts';
import { referencedSecrets, SECRET_KEY_FIELD, type SecretRef } from '../render/secret-refs.ts';
import { type ChildKind, CREATE_ONLY_KINDS } from './child-kinds.ts';
import type { EventType, KubeApi } from './kube-api.ts';
import type { OllamaProber } from './ollama.ts';
import { podProblems } from './pod-problems.ts';
import type { ReadYourWrites } from './read-your-writes.ts';
import { computeStatus, condition, statusDiffers } from './status.ts';

/** Read-only view of the informer caches. Objects must not be mutated. */
export interface ReconcileCache {
  webui(namespace: string, name: string): WebUI | undefined;
  child(kind: ChildKind, namespace: string, name: string): KubernetesObject | undefined;
  /** The pods of this WebUI's Deployments (status only; read, never written). */
  pods(namespace: string, instance: string): V1Pod[];
}

export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ReconcilerDeps {
  cache: ReconcileCache;
  api: KubeApi;
  /** Writes the cache has not shown yet; the controller forgets them on watch events. */
  writes: ReadYourWrites;
  /** Keeps the retries of a failing reconcile from repeating its Events. */
  recordedEvents: EventDeduplicator;
  prober: OllamaProber;
  defaultImage: string;
  log: Logger;
  now?: () => Date;
  generateSecretKey?: () => string;
  /** How often Ollama is re-checked (and every WebUI re-reconciled). */
  resyncMs?: number;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** A passing failure (an apply refused, a Secret missing, the API server away): retried with backoff. */
export class ReconcileError extends Error {
  override name = 'ReconcileError';
}

/** The stored spec cannot be rendered: no retry can fix it, an edit of the WebUI can. */
export class UnrenderableSpecError extends PermanentError {
  override name = 'UnrenderableSpecError';
}

function secretValue(s: V1Secret | KubernetesObject | undefined, key: string): string | undefined {
  return (s as V1Secret | undefined)?.data?.[key];
}

function envOf(d: KubernetesObject | undefined, name: string): string | undefined {
  return (d as V1Deployment | undefined)?.spec?.template.spec?.containers[0]?.env?.find(
    (e) => e.name === name,
  )?.value;
}

/** A live RollingUpdate Deployment (with its defaulted rollingUpdate block) that must become Recreate. */
function needsRecreateSwitch(desired: KubernetesObject, live: KubernetesObject | undefined): boolean {
  const want = (desired as V1Deployment).spec?.strategy?.type;
  return (
    want === 'Recreate' && (live as V1Deployment | undefined)?.spec?.strategy?.rollingUpdate !== undefined
  );
}

/** What applying one child came to: what is live now, and what to report. */
interface ChildOutcome {
  kind: ChildKind;
  childName: string;
  observed: KubernetesObject | undefined;
  error?: string;
  applied?: { stamped: KubernetesObject; live: KubernetesObject | undefined };
}

/** Made by this operator for this WebUI (a retained claim of an earlier WebUI of the same name counts). */
function belongsTo(o: KubernetesObject, w: WebUI): boolean {
  const l = o.metadata?.labels ?? {};
  return l[LABEL_MANAGED_BY] === FIELD_MANAGER && l[LABEL_INSTANCE] === w.metadata.name;
}

function appliedHash(o: KubernetesObject): string | undefined {
  return o.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
}

function templateHash(d: KubernetesObject | undefined): string | undefined {
  return (d as V1Deployment | undefined)?.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

export class Reconciler {
  private readonly deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private async event(w: WebUI, type: EventType, reason: string, message: string): Promise<void> {
    const key = `${w.metadata.uid}/${reason}/${message}`;
    if (!this.deps.recordedEvents.isNew(key, this.now().getTime())) return;
    try {
      await this.deps.api.createEvent(w, type, reason, message);
    } catch (e) {
      // An event that cannot be recorded must not fail the reconcile.
      this.deps.log.warn({ err: apiFailure(e).message, reason }, 'could not record event');
    }
  }

  /** Digest of one Secret value the pods read, or an error text when it is missing. */
  private async readRef(
    w: WebUI,
    ref: SecretRef,
    digests: Record<string, string>,
    errors: string[],
  ): Promise<void> {
    const s = await this.deps.api.readSecret(w.metadata.namespace, ref.name);
    const v = secretValue(s, ref.key);
    if (v === undefined) {
      errors.push(
        s
          ? `Secret ${ref.name} has no key "${ref.key}" (${ref.field})`
          : `Secret ${ref.name} not found (${ref.field}); create it in namespace ${w.metadata.namespace}`,
      );
      return;
    }
    digests[`${ref.name}/${ref.key}`] = sha256Hex(v);
    const bytes = Buffer.from(v, 'base64').byteLength;
    if (ref.field === SECRET_KEY_FIELD && bytes < MIN_SECRET_KEY_BYTES) {
      // The backend would refuse it at startup and crash-loop; say so where the admin looks.
      errors.push(
        `Secret ${ref.name} key "${ref.key}" (${ref.field}) is ${bytes} bytes; ${settings.webuiSecretKey.env} needs at least ${MIN_SECRET_KEY_BYTES}: set it to the output of \`openssl rand -base64 32\``,
      );
    }
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const cached = this.deps.cache.webui(namespace, name);
    // Deleted: the garbage collector removes owned children; a retained claim stays by design.
    if (!cached || cached.metadata.deletionTimestamp) return {};
    // The API server defaults on write; objects stored before a default existed lack it.
    const w: WebUI = { ...cached, spec: defaultSpec(cached.spec) };
    const { cache, api, log, writes } = this.deps;
    const errors: string[] = [];
    let unrenderable = false;
    const digests: Record<string, string> = {};

    // The generated key is read from the cache, or the API when the cache has not seen it yet:
    // a key that exists must never be replaced.
    let existingKey: Record<string, string> | undefined;
    if (managesSecretKey(w)) {
      const cachedSecret = cache.child('Secret', namespace, names.secretKey(w)) as V1Secret | undefined;
      // A failed read throws (and retries later): never generate a key on uncertainty.
      const live = cachedSecret ?? (await api.readSecret(namespace, names.secretKey(w)));
      const kept = secretValue(live, SECRET_KEY_KEY);
      // The key Secret is never written once it exists (CREATE_ONLY_KINDS): one without the key stays so.
      if (live && !kept) {
        errors.push(
          `Secret ${names.secretKey(w)} has no key "${SECRET_KEY_KEY}"; delete it and the operator generates a new key (signed-in users must sign in again)`,
        );
      }
      const value =
        kept ?? Buffer.from((this.deps.generateSecretKey ?? generateSecretKey)()).toString('base64');
      existingKey = { [SECRET_KEY_KEY]: value };
      digests[`${names.secretKey(w)}/${SECRET_KEY_KEY}`] = sha256Hex(value);
    }
    for (const ref of referencedSecrets(w)) await this.readRef(w, ref, digests, errors);

    let desired: Desired;
    let url: string | undefined;
    try {
      desired = renderAll(w, {
        defaultImage: this.deps.defaultImage,
        secretDigests: digests,
        ...(existingKey ? { existingSecretKeyData: existingKey } : {}),
      });
      url = publicUrl(w);
    } catch (e) {
      // A spec stored under an older, looser schema, or one the CRD's patterns cannot fully check
      // (a trusted-proxy range with host bits): report it on the WebUI, leave the children as they are.
      unrenderable = true;
      errors.push(
        `the spec cannot be rendered: ${e instanceof Error ? e.message : String(e)}; edit the WebUI`,
      );
      desired = { apply: [], prune: [] };
    }

    const observed = new Map<string, KubernetesObject>();
    const created: string[] = [];
    // Children are independent (a pod waits for a missing Secret or claim), so they are
    // applied in parallel; results are collected in render order to keep events stable.
    const outcomes = await Promise.all(
      desired.apply.map(async (obj): Promise<ChildOutcome> => {
        const kind = obj.kind as ChildKind;
        const childName = obj.metadata?.name ?? '';
        const live = cache.child(kind, namespace, childName);
        const stamped = stampApplied(obj);
        const hash = appliedHash(stamped) ?? '';
        const liveRv = live?.metadata?.resourceVersion ?? '';
        const recent = writes.appliedSince(kind, namespace, childName, liveRv);
        // The watch has not delivered our last apply yet; it was this very object.
        if (recent?.hash === hash) return { kind, childName, observed: recent.result };
        if (recent) writes.forgetChild(kind, namespace, childName);
        if (CREATE_ONLY_KINDS.has(kind)) return this.createOnce(w, stamped, live, hash, liveRv);
        if (!needsApply(stamped, live)) return { kind, childName, observed: live };
        try {
          // Not in our cache (which holds only what this operator labels): make sure we are
          // not about to take over an object someone else made under the same name.
          if (!live) {
            const existing = await api.read(kind, namespace, childName);
            if (existing && !belongsTo(existing, w)) {
              return {
                kind,
                childName,
                observed: undefined,
                error: `${kind} ${childName} already exists and is not managed by this WebUI; rename or delete it`,
              };
            }
          }
          if (kind === 'Deployment' && needsRecreateSwitch(stamped, live)) {
            await api.switchToRecreate(namespace, childName);
          }
          const result = await api.apply(stamped);
          writes.rememberApply(kind, namespace, childName, liveRv, { hash, result });
          log.info({ webui: `${namespace}/${name}`, kind, name: childName, created: !live }, 'applied');
          return { kind, childName, observed: result, applied: { stamped, live } };
        } catch (e) {
          const f = apiFailure(e);
          log.warn(
            { webui: `${namespace}/${name}`, code: f.code },
            `apply ${kind} ${childName}: ${f.message}`,
          );
          return { kind, childName, observed: live, error: `apply ${kind} ${childName}: ${f.message}` };
        }
      }),
    );
    for (const o of outcomes) {
      if (o.observed) observed.set(`${o.kind}/${o.childName}`, o.observed);
      if (o.error) {
        errors.push(o.error);
        await this.event(w, 'Warning', 'ApplyFailed', o.error);
      } else if (o.applied && !o.applied.live) created.push(`${o.kind} ${o.childName}`);
      else if (o.applied?.live && o.kind === 'Deployment') {
        await this.deploymentEvents(w, o.applied.stamped, o.applied.live);
      }
    }
    for (const p of desired.prune) {
      const live = cache.child(p.kind, namespace, p.name);
      const owner = live?.metadata?.ownerReferences?.find((o) => o.controller);
      // Only what this WebUI controls: never a same-named object someone else made.
      if (!live?.metadata?.uid || owner?.uid !== w.metadata.uid) continue;
      try {
        await api.delete(p.kind, namespace, p.name, live.metadata.uid);
        writes.forgetChild(p.kind, namespace, p.name);
        await this.event(w, 'Normal', 'Deleted', `deleted ${p.kind} ${p.name} (spec.ingress is off)`);
      } catch (e) {
        errors.push(`delete ${p.kind} ${p.name}: ${apiFailure(e).message}`);
      }
    }
    // One event for everything created in this pass keeps event writes low at scale.
    if (created.length > 0) await this.event(w, 'Normal', 'Created', `created ${created.join(', ')}`);

    const deployment = (n: string) =>
      (observed.get(`Deployment/${n}`) ?? cache.child('Deployment', namespace, n)) as
        | V1Deployment
        | undefined;
    const backend = deployment(names.backend(w));
    const frontend = deployment(names.frontend(w));
    const desiredBackend = desired.apply.find(
      (o) => o.kind === 'Deployment' && o.metadata?.name === names.backend(w),
    );
    const ollama = await this.deps.prober.probe(ollamaUrls(w));
    const claim = cache.child('PersistentVolumeClaim', namespace, names.data(w)) as
      | V1PersistentVolumeClaim
      | undefined;
    const blocked = podProblems(cache.pods(namespace, name), claim ? [claim] : []);
    // While the cache has not shown our last status write, that write is the previous status.
    const rv = cached.metadata.resourceVersion ?? '';
    const prevStatus = writes.statusSince(namespace, name, rv) ?? w.status;
    const status = computeStatus({
      webui: prevStatus ? { ...w, status: prevStatus } : w,
      backend,
      frontend,
      url: url ?? w.status?.url ?? '',
      configHash: templateHash(desiredBackend) ?? '',
      ollama,
      errors,
      podProblems: blocked,
      now: this.now(),
    });

    if (statusDiffers(prevStatus, status)) {
      try {
        await api.applyStatus(w, status);
      } catch (e) {
        throw new ReconcileError(`write status: ${apiFailure(e).message}`);
      }
      writes.rememberStatus(namespace, name, rv, status);
      await this.transitionEvents(w, prevStatus, status);
    }
    if (errors.length > 0) {
      // Alone, a spec that cannot be rendered waits for an edit; with a passing problem beside it, retry.
      const only = unrenderable && errors.length === 1;
      throw only ? new UnrenderableSpecError(errors.join('; ')) : new ReconcileError(errors.join('; '));
    }
    return { requeueAfterMs: this.deps.resyncMs ?? 60_000 };
  }

  /**
   * A create-only child (the generated key Secret): created when it does not
   * exist, never written after that. An existing one made for this WebUI is
   * taken as it is; one someone else made under the name is left alone.
   */
  private async createOnce(
    w: WebUI,
    stamped: KubernetesObject,
    cached: KubernetesObject | undefined,
    hash: string,
    liveRv: string,
  ): Promise<ChildOutcome> {
    const kind = stamped.kind as ChildKind;
    const childName = stamped.metadata?.name ?? '';
    const namespace = w.metadata.namespace;
    try {
      const live = cached ?? (await this.deps.api.read(kind, namespace, childName));
      if (live) {
        return belongsTo(live, w)
          ? { kind, childName, observed: live }
          : {
              kind,
              childName,
              observed: undefined,
              error: `${kind} ${childName} already exists and is not managed by this WebUI; rename or delete it`,
            };
      }
      const result = await this.deps.api.create(stamped);
      this.deps.writes.rememberApply(kind, namespace, childName, liveRv, { hash, result });
      this.deps.log.info(
        { webui: `${namespace}/${w.metadata.name}`, kind, name: childName, created: true },
        'created',
      );
      return { kind, childName, observed: result, applied: { stamped, live: undefined } };
    } catch (e) {
      const f = apiFailure(e);
      this.deps.log.warn(
        { webui: `${namespace}/${w.metadata.name}`, code: f.code },
        `create ${kind} ${childName}: ${f.message}`,
      );
      return { kind, childName, observed: cached, error: `create ${kind} ${childName}: ${f.message}` };
    }
  }

  private async deploymentEvents(w: WebUI, desired: KubernetesObject, live: KubernetesObject): Promise<void> {
    const name = desired.metadata?.name ?? '';
    const token = envOf(desired, settings.configResetToken.env);
    if (token !== undefined && token !== envOf(live, settings.configResetToken.env)) {
      await this.event(
        w,
        'Normal',
        'ConfigResetStarted',
        `rolling ${name} with ${settings.resetConfigOnStart.env}=true and ${settings.configResetToken.env}=${token}`,
      );
    } else if (templateHash(desired) !== templateHash(live)) {
      // The generation and the new pod template's hash make each change its own Event: repeated
      // Events are folded by their text (EventDeduplicator), and four changes are four rollouts.
      await this.event(
        w,
        'Normal',
        'ConfigChanged',
        `configuration changed (generation ${w.metadata.generation ?? '?'}): rolling out ${name} with pod template ${(templateHash(desired) ?? '').slice(0, 12)}`,
      );
    }
  }

  private async transitionEvents(w: WebUI, prev: WebUIStatus | undefined, next: WebUIStatus): Promise<void> {
    const flipped = (t: ConditionType) => condition(prev, t)?.status !== condition(next, t)?.status;
    for (const t of CONDITION_TYPES) {
      const c = condition(next, t);
      if (!c || !flipped(t)) continue;
      if (t === 'Ready' && c.status === 'True') await this.event(w, 'Normal', 'Ready', c.message);
      if (t === 'OllamaReachable' && c.status === 'False')
        await this.event(w, 'Warning', 'OllamaUnreachable', c.message);
      if (t === 'OllamaReachable' && c.status === 'True' && prev)
        await this.event(w, 'Normal', 'OllamaReachable', c.message);
      if (t === 'Degraded' && c.status === 'True') await this.event(w, 'Warning', 'Degraded', c.message);
    }
    if (next.configReset && next.configReset.token !== prev?.configReset?.token) {
      await this.event(
        w,
        'Normal',
        'ConfigResetCompleted',
        `config reset for token ${next.configReset.token} completed`,
      );
    }
  }
}
