import type { KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultSpec, type WebUI, type WebUISpecInput, type WebUIStatus } from '../api/v1alpha1/webui.ts';
import { EventDeduplicator } from '../kube/event-deduplicator.ts';
import { PermanentError } from '../kube/queue.ts';
import type { ChildKind } from './child-kinds.ts';
import type { KubeApi } from './kube-api.ts';
import { OllamaProber } from './ollama.ts';
import { ReadYourWrites } from './read-your-writes.ts';
import { ReconcileError, Reconciler } from './reconcile.ts';

/** In-memory API and cache: applies land in the cache, as a watch would deliver them. */
function world(
  spec: WebUISpecInput,
  opts: {
    failKind?: string;
    apiSecrets?: V1Secret[];
    staleCache?: boolean;
    foreign?: KubernetesObject[];
  } = {},
) {
  const children = new Map<string, KubernetesObject>();
  let rv = 0;
  let webui: WebUI = {
    apiVersion: 'webui.dev/v1alpha1',
    kind: 'WebUI',
    metadata: { name: 'chat', namespace: 'ns', uid: 'u1', generation: 1 },
    spec: defaultSpec(spec),
  };
  const writes: string[] = [];
  const events: string[] = [];
  const api: KubeApi = {
    async apply(obj) {
      writes.push(`apply ${obj.kind}/${obj.metadata?.name}`);
      if (obj.kind === opts.failKind) throw new Error(`${obj.kind} refused`);
      rv++;
      const live = structuredClone({
        ...obj,
        metadata: { ...obj.metadata, resourceVersion: String(rv) },
        status: {},
      });
      if (!opts.staleCache) children.set(`${obj.kind}/${obj.metadata?.name}`, live);
      return live;
    },
    async create(obj) {
      writes.push(`create ${obj.kind}/${obj.metadata?.name}`);
      rv++;
      const live = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } });
      if (!opts.staleCache) children.set(`${obj.kind}/${obj.metadata?.name}`, live);
      return live;
    },
    async applyStatus(_w, status: WebUIStatus) {
      writes.push('status');
      if (!opts.staleCache) webui = { ...webui, status: structuredClone(status) };
    },
    async read(kind, _ns, name) {
      return (
        opts.foreign?.find((o) => o.kind === kind && o.metadata?.name === name) ??
        (kind === 'Secret' ? opts.apiSecrets?.find((o) => o.metadata?.name === name) : undefined) ??
        children.get(`${kind}/${name}`)
      );
    },
    async readSecret(_ns, name) {
      return opts.apiSecrets?.find((s) => s.metadata?.name === name);
    },
    async switchToRecreate(_ns, name) {
      writes.push(`recreate Deployment/${name}`);
      const d = children.get(`Deployment/${name}`) as V1Deployment | undefined;
      if (d?.spec) d.spec.strategy = { type: 'Recreate' };
    },
    async delete(kind, _ns, name) {
      writes.push(`delete ${kind}/${name}`);
      children.delete(`${kind}/${name}`);
    },
    async createEvent(_w, type, reason) {
      events.push(`${type} ${reason}`);
    },
  };
  let t = Date.parse('2026-11-24T10:00:00Z');
  const reconciler = new Reconciler({
    cache: {
      webui: () => webui,
      child: (kind: ChildKind, _ns, name) => children.get(`${kind}/${name}`),
      pods: () => [],
    },
    api,
    writes: new ReadYourWrites(),
    recordedEvents: new EventDeduplicator(),
    prober: new OllamaProber({
      fetch: async () => new Response('{"version":"0.9.9"}'),
    }),
    defaultImage: 'img',
    log: { debug() {}, info() {}, warn() {}, error() {} },
    now: () => {
      t += 1000;
      return new Date(t);
    },
    generateSecretKey: () => 'generated-key',
  });
  return {
    reconciler,
    writes,
    events,
    children,
    get webui() {
      return webui;
    },
    setSpec(s: WebUISpecInput) {
      webui = {
        ...webui,
        spec: defaultSpec(s),
        metadata: { ...webui.metadata, generation: (webui.metadata.generation ?? 1) + 1 },
      };
    },
  };
}

const spec: WebUISpecInput = { ollama: { baseUrl: 'http://ollama:11434' } };

describe('Reconciler', () => {
  it('applies every child, writes status, and then makes zero writes when nothing changed', async () => {
    const w = world(spec);
    const res = await w.reconciler.reconcile('ns', 'chat');
    expect(res.requeueAfterMs).toBe(60_000);
    expect(w.writes).toEqual([
      'create Secret/chat-secret-key',
      'apply PersistentVolumeClaim/chat-data',
      'apply Service/chat-backend',
      'apply Service/chat-frontend',
      'apply NetworkPolicy/chat-backend',
      'apply Deployment/chat-backend',
      'apply Deployment/chat-frontend',
      'apply PodDisruptionBudget/chat-backend',
      'apply PodDisruptionBudget/chat-frontend',
      'status',
    ]);
    expect(w.events.filter((e) => e === 'Normal Created')).toHaveLength(1);
    w.writes.length = 0;
    await w.reconciler.reconcile('ns', 'chat');
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes).toEqual([]);
  });

  it('does not repeat writes while the cache has not caught up with them', async () => {
    const w = world(spec, { staleCache: true });
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes).toHaveLength(10);
    w.writes.length = 0;
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes).toEqual([]);
  });

  it('applies only what a spec change touches and keeps condition transition times', async () => {
    const w = world(spec);
    await w.reconciler.reconcile('ns', 'chat');
    const ollamaSince = w.webui.status?.conditions?.find(
      (c) => c.type === 'OllamaReachable',
    )?.lastTransitionTime;
    w.writes.length = 0;
    w.setSpec({ ...spec, auth: { enableSignup: false } });
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes).toEqual(['apply Deployment/chat-backend', 'status']);
    expect(w.events).toContain('Normal ConfigChanged');
    expect(w.webui.status?.observedGeneration).toBe(2);
    // Each further change is its own Event (they were folded into one for 10 minutes by their text).
    for (const enableSignup of [true, false, true]) {
      w.setSpec({ ...spec, auth: { enableSignup } });
      await w.reconciler.reconcile('ns', 'chat');
    }
    expect(w.events.filter((e) => e === 'Normal ConfigChanged')).toHaveLength(4);
    expect(w.webui.status?.conditions?.find((c) => c.type === 'OllamaReachable')?.lastTransitionTime).toBe(
      ollamaSince,
    );
  });

  it('keeps a secret key the cache has not seen yet but the API has', async () => {
    const existing = Buffer.from('kept-key').toString('base64');
    const w = world(spec, {
      apiSecrets: [
        {
          metadata: {
            name: 'chat-secret-key',
            labels: {
              'app.kubernetes.io/managed-by': 'webui-operator',
              'app.kubernetes.io/instance': 'chat',
            },
          },
          data: { 'secret-key': existing },
        },
      ],
    });
    await w.reconciler.reconcile('ns', 'chat');
    // Neither replaced nor written at all: the key Secret is create-only.
    expect(w.writes.filter((x) => x.includes('Secret/'))).toEqual([]);
    const backend = w.children.get('Deployment/chat-backend') as V1Deployment;
    const keyEnv = backend.spec?.template.spec?.containers[0]?.env?.find(
      (e) => e.name === 'WEBUI_SECRET_KEY',
    );
    expect(keyEnv?.valueFrom?.secretKeyRef).toEqual({ name: 'chat-secret-key', key: 'secret-key' });
  });

  it('creates the key Secret once and never writes it again, not even to repair it (no patch on Secrets)', async () => {
    const w = world(spec);
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes.filter((x) => x.includes('Secret/'))).toEqual(['create Secret/chat-secret-key']);
    // Someone empties it: reported, not rewritten.
    const live = w.children.get('Secret/chat-secret-key') as V1Secret;
    w.children.set('Secret/chat-secret-key', { ...live, data: {} } as V1Secret);
    w.writes.length = 0;
    await expect(w.reconciler.reconcile('ns', 'chat')).rejects.toThrow(
      'Secret chat-secret-key has no key "secret-key"; delete it',
    );
    expect(w.writes.filter((x) => x.includes('Secret/'))).toEqual([]);
  });

  it('leaves a key Secret of the same name that it did not make alone', async () => {
    const foreign: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'chat-secret-key' },
      data: {},
    };
    const w = world(spec, { foreign: [foreign], apiSecrets: [foreign] });
    await expect(w.reconciler.reconcile('ns', 'chat')).rejects.toThrow(
      'Secret chat-secret-key already exists and is not managed by this WebUI',
    );
    expect(w.writes.filter((x) => x.includes('Secret/'))).toEqual([]);
  });

  it('reports a failed apply as Degraded, records a Warning and fails for a retry with backoff', async () => {
    const w = world(spec, { failKind: 'Service' });
    const err = await w.reconciler.reconcile('ns', 'chat').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReconcileError);
    // A refused apply may pass (a webhook, a quota): it keeps its backoff.
    expect(err).not.toBeInstanceOf(PermanentError);
    const degraded = w.webui.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ReconcileFailed' });
    expect(degraded?.message).toContain('Service refused');
    expect(w.events).toContain('Warning ApplyFailed');
  });

  it('reports a stored spec it cannot render as Degraded, leaves the children alone and waits for an edit', async () => {
    const w = world(spec);
    await w.reconciler.reconcile('ns', 'chat');
    const url = w.webui.status?.url;
    w.writes.length = 0;
    // Accepted by an older CRD (pattern ^/), refused by the current one.
    w.setSpec({ ...spec, ingress: { host: 'chat.example.com', path: '/a b' } });
    // Permanent: retrying cannot render it, so the queue waits for the next edit instead of a backoff.
    await expect(w.reconciler.reconcile('ns', 'chat')).rejects.toBeInstanceOf(PermanentError);
    expect(w.writes).toEqual(['status']);
    const degraded = w.webui.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ReconcileFailed' });
    expect(degraded?.message).toContain('the spec cannot be rendered: spec.ingress.path: expected a path');
    expect(w.webui.status?.url).toBe(url);
    expect(w.events).toContain('Warning Degraded');
  });

  it('reports a user-provided secret key too short for the server, instead of a crash loop', async () => {
    const short = {
      metadata: { name: 'mine' },
      data: { 'secret-key': Buffer.from('hunter2').toString('base64') },
    };
    const w = world({ ...spec, auth: { secretKeyRef: { name: 'mine' } } }, { apiSecrets: [short] });
    await expect(w.reconciler.reconcile('ns', 'chat')).rejects.toThrow(
      'Secret mine key "secret-key" (spec.auth.secretKeyRef) is 7 bytes; WEBUI_SECRET_KEY needs at least 32',
    );
    const cond = w.webui.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(cond).toMatchObject({ status: 'True', reason: 'ReconcileFailed' });
    expect(cond?.message).not.toContain('hunter2');
    const long = { ...short, data: { 'secret-key': Buffer.from('k'.repeat(32)).toString('base64') } };
    const ok = world({ ...spec, auth: { secretKeyRef: { name: 'mine' } } }, { apiSecrets: [long] });
    await ok.reconciler.reconcile('ns', 'chat');
    expect(ok.webui.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  it('reads a user-provided secret key and reports a missing one', async () => {
    const w = world({ ...spec, auth: { secretKeyRef: { name: 'mine' } } });
    await expect(w.reconciler.reconcile('ns', 'chat')).rejects.toThrow('Secret mine not found');
    expect(w.children.has('Secret/chat-secret-key')).toBe(false);
  });

  it('drops the defaulted rollingUpdate block before switching the backend back to Recreate', async () => {
    const w = world(
      { ...spec, database: { urlSecretRef: { name: 'pg' } } },
      {
        apiSecrets: [
          { metadata: { name: 'pg' }, data: { url: Buffer.from('postgres://u:p@db/x').toString('base64') } },
        ],
      },
    );
    await w.reconciler.reconcile('ns', 'chat');
    const d = w.children.get('Deployment/chat-backend') as V1Deployment;
    expect(d.spec?.strategy?.type).toBe('RollingUpdate');
    // What the API server's defaulting adds to a RollingUpdate Deployment.
    if (d.spec?.strategy) d.spec.strategy.rollingUpdate = { maxSurge: '25%', maxUnavailable: '25%' };
    w.writes.length = 0;
    w.setSpec(spec);
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes.indexOf('recreate Deployment/chat-backend')).toBeGreaterThanOrEqual(0);
    expect(w.writes.indexOf('recreate Deployment/chat-backend')).toBeLessThan(
      w.writes.indexOf('apply Deployment/chat-backend'),
    );
  });

  it('deletes its Ingress when the spec turns it off, and nothing it does not control', async () => {
    const w = world({ ...spec, ingress: { host: 'chat.example.com' } });
    await w.reconciler.reconcile('ns', 'chat');
    const ing = w.children.get('Ingress/chat');
    expect(ing).toBeDefined();
    if (ing?.metadata) ing.metadata.uid = 'ing-uid';
    w.writes.length = 0;
    w.setSpec({ ...spec, ingress: { enabled: false } });
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes).toContain('delete Ingress/chat');
    expect(w.children.has('Ingress/chat')).toBe(false);

    // A same-named Ingress owned by someone else is left alone.
    w.children.set('Ingress/chat', {
      kind: 'Ingress',
      metadata: { name: 'chat', namespace: 'ns', uid: 'x' },
    });
    w.writes.length = 0;
    await w.reconciler.reconcile('ns', 'chat');
    expect(w.writes).toEqual([]);
  });

  it('never takes over a same-named object it does not manage', async () => {
    const w = world(spec, {
      foreign: [
        {
          kind: 'Deployment',
          metadata: { name: 'chat-backend', namespace: 'ns', labels: { app: 'theirs' } },
        },
      ],
    });
    await expect(w.reconciler.reconcile('ns', 'chat')).rejects.toThrow(
      'Deployment chat-backend already exists and is not managed by this WebUI',
    );
    expect(w.writes).not.toContain('apply Deployment/chat-backend');
    expect(w.writes).toContain('apply Deployment/chat-frontend');
    expect(w.webui.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('True');
  });

  it('does nothing for a WebUI being deleted', async () => {
    const w = world(spec);
    Object.assign(w.webui.metadata, { deletionTimestamp: '2026-11-24T10:00:00Z' });
    expect(await w.reconciler.reconcile('ns', 'chat')).toEqual({});
    expect(w.writes).toEqual([]);
  });
});
