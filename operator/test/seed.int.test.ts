/**
 * The WebUI seed against a real kube-apiserver + kube-controller-manager (garbage collector): the
 * operator's SeedApplier, in this process with the operator's own client, applies the WebUI a seed
 * ConfigMap holds. Writes are counted in the API server's audit log.
 */
import { join } from 'node:path';
import {
  CoreV1Api,
  type CoreV1Event,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCrdFile, type ControlPlane, startControlPlane } from '../../test/harness/control-plane.ts';
import { GROUP, PLURAL, VERSION, type WebUI } from '../src/api/v1alpha1/webui.ts';
import type { KubeTransport } from '../src/kube/rest.ts';
import { USER_AGENT } from '../src/kube/rest.ts';
import { SEED_DATA_KEY, SEED_FIELD_MANAGER } from '../src/seed/seed.ts';
import { SeedApplier } from '../src/seed/seed-applier.ts';
import { kubeClientFor, MERGE, waitFor } from './support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NS = 'ops';
const WEBUI = { group: GROUP, version: VERSION, plural: PLURAL };
const LABELS = { 'app.kubernetes.io/instance': 'wo', 'app.kubernetes.io/part-of': 'webui-operator' };

let cp: ControlPlane;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const appliers: SeedApplier[] = [];
const warnings: string[] = [];

function manifest(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'webui.dev/v1alpha1',
    kind: 'WebUI',
    metadata: { name, namespace: NS, labels: LABELS },
    spec,
    ...extra,
  };
}

/** Creates or replaces the seed ConfigMap; a string is stored as is (for seeds that do not parse). */
async function putSeed(seed: string, content: unknown): Promise<V1ConfigMap> {
  const body: V1ConfigMap = {
    metadata: { name: seed, namespace: NS },
    data: { [SEED_DATA_KEY]: typeof content === 'string' ? content : JSON.stringify(content, null, 2) },
  };
  try {
    return await core.replaceNamespacedConfigMap({ name: seed, namespace: NS, body });
  } catch {
    return await core.createNamespacedConfigMap({ namespace: NS, body });
  }
}

/** Counts the requests the applier makes, by method, so a test can see the passes that wrote nothing. */
function counting(client: KubeTransport, counts: Map<string, number>): KubeTransport {
  return {
    request: (method, path, opts) => {
      counts.set(method, (counts.get(method) ?? 0) + 1);
      return client.request(method, path, opts);
    },
    get: (path, query, accept) => {
      counts.set('GET', (counts.get('GET') ?? 0) + 1);
      return client.get(path, query, accept);
    },
    watch: client.watch,
  };
}

async function startApplier(seed: string, counts = new Map<string, number>()): Promise<SeedApplier> {
  const log = {
    debug() {},
    info() {},
    warn: (o: object, m: string) => void warnings.push(`${m} ${JSON.stringify(o)}`),
    error() {},
  };
  const applier = new SeedApplier({
    client: counting(await kubeClientFor(cp.kubeconfigPath), counts),
    namespace: NS,
    name: seed,
    log,
    reportingInstance: 'test',
    resyncMs: 500,
  });
  applier.start();
  appliers.push(applier);
  return applier;
}

async function readWebUI(name: string): Promise<WebUI | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ ...WEBUI, namespace: NS, name })) as WebUI;
  } catch {
    return undefined;
  }
}

async function seedEvents(seed: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({
    namespace: NS,
    fieldSelector: `involvedObject.kind=ConfigMap,involvedObject.name=${seed}`,
  });
  return list.items;
}

/** Writes to WebUIs (not their status) by the operator's client since `since`, from the audit log. */
async function seedWrites(since: number) {
  return (await cp.readAuditEvents()).filter(
    (e) =>
      e.userAgent?.startsWith(USER_AGENT) &&
      e.objectRef?.resource === 'webuis' &&
      !e.objectRef.subresource &&
      Date.parse(e.requestReceivedTimestamp) >= since,
  );
}

beforeAll(async () => {
  cp = await startControlPlane({ controllerManager: true, auditLog: true });
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await Promise.all(appliers.map((a) => a.stop()));
  await cp?.stop();
});

describe('the WebUI seed', () => {
  it('waits for the CRD without a Warning Event, then creates the WebUI, owned by the seed', async () => {
    // The operator can start before its CRD exists (a one-pass `kubectl apply`, Argo CD, Flux).
    const seed = await putSeed('seed-a', manifest('alpha', { ollama: { baseUrl: 'http://ollama:11434' } }));
    await startApplier('seed-a');
    await waitFor('a failed pass', async () =>
      warnings.some((w) => w.includes('is the WebUI CRD installed')),
    );
    expect(await seedEvents('seed-a')).toEqual([]);
    await applyCrdFile(cp, join(ROOT, 'crds', 'webui.dev_webuis.yaml'));

    const w = await waitFor('the WebUI', () => readWebUI('alpha'), 30_000);
    expect(w.spec.ollama.baseUrl).toBe('http://ollama:11434');
    expect(w.metadata.labels).toMatchObject(LABELS);
    const meta = w.metadata as WebUI['metadata'] & {
      ownerReferences?: unknown[];
      managedFields?: { manager: string; operation: string }[];
    };
    expect(meta.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'seed-a', uid: seed.metadata?.uid, controller: true },
    ]);
    expect(
      meta.managedFields?.filter((f) => f.manager === SEED_FIELD_MANAGER).map((f) => f.operation),
    ).toEqual(['Apply']);
    expect(await seedEvents('seed-a')).toEqual([]);
  });

  it('makes no writes while the seed and the WebUI are unchanged, though it checks every resync', async () => {
    const counts = new Map<string, number>();
    await putSeed('seed-b', manifest('bravo', { ollama: { baseUrl: 'http://ollama:11434' } }));
    await startApplier('seed-b', counts);
    await waitFor('the WebUI', () => readWebUI('bravo'));
    await waitFor('the apply in the audit log', async () =>
      (await seedWrites(0)).some((e) => e.objectRef?.name === 'bravo'),
    );
    const since = Date.now();
    const before = counts.get('GET') ?? 0;
    await new Promise((r) => setTimeout(r, 3_000));
    expect((counts.get('GET') ?? 0) - before, 'passes (one read of the WebUI each)').toBeGreaterThanOrEqual(
      4,
    );
    expect((await seedWrites(since)).filter((e) => e.objectRef?.name === 'bravo')).toEqual([]);
  });

  it('follows seed changes, removes what the seed stopped setting, keeps what others added, and reverts edits of its fields', async () => {
    await putSeed(
      'seed-c',
      manifest('charlie', {
        ollama: { baseUrl: 'http://ollama:11434', timeoutSeconds: 600 },
        extraEnv: [{ name: 'JWT_EXPIRES_IN', value: '1h' }],
      }),
    );
    await startApplier('seed-c');
    await waitFor('the WebUI', () => readWebUI('charlie'));
    // Alice adds her own field and annotation with her own field manager.
    await custom.patchNamespacedCustomObject(
      {
        ...WEBUI,
        namespace: NS,
        name: 'charlie',
        fieldManager: 'alice',
        body: {
          apiVersion: 'webui.dev/v1alpha1',
          kind: 'WebUI',
          metadata: { name: 'charlie', annotations: { 'alice/note': 'mine' } },
          spec: { extraEnv: [{ name: 'WEBUI_URL', value: 'https://chat.example' }] },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );

    await putSeed(
      'seed-c',
      manifest('charlie', { ollama: { baseUrl: 'http://ollama:11434', timeoutSeconds: 900 } }),
    );
    const w = await waitFor('the new timeout', async () => {
      const cur = await readWebUI('charlie');
      return cur?.spec.ollama.timeoutSeconds === 900 && cur;
    });
    expect(w.spec.extraEnv).toEqual([{ name: 'WEBUI_URL', value: 'https://chat.example' }]);
    expect(w.metadata.annotations?.['alice/note']).toBe('mine');

    // A hand edit of a field the seed sets goes back at the next pass.
    await custom.patchNamespacedCustomObject(
      { ...WEBUI, namespace: NS, name: 'charlie', body: { spec: { ollama: { timeoutSeconds: 5 } } } },
      MERGE,
    );
    await waitFor(
      'the seed timeout back',
      async () => (await readWebUI('charlie'))?.spec.ollama.timeoutSeconds === 900,
    );
  });

  it('reports a seed the API server refuses with a Warning Event naming the field, and backs off', async () => {
    await putSeed('seed-d', manifest('delta', { ollama: { baseUrl: 'ftp://nope' } }));
    const since = Date.now();
    await startApplier('seed-d');
    const event = await waitFor('a Warning Event', async () =>
      (await seedEvents('seed-d')).find((e) => e.reason === 'SeedApplyFailed'),
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toMatch(/spec\.ollama\.baseUrl/);
    expect(event.message).toContain('must be an http(s) URL');
    expect(warnings.some((w) => w.includes('spec.ollama.baseUrl') && w.includes('seed-d'))).toBe(true);
    // Retried with backoff (0.5 s, 1 s, 2 s, ...), not in a tight loop; the Event is not repeated.
    await new Promise((r) => setTimeout(r, 5_000));
    const attempts = (await seedWrites(since)).filter((e) => e.objectRef?.name === 'delta');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(6);
    expect(attempts.every((e) => e.responseStatus?.code === 422)).toBe(true);
    expect((await seedEvents('seed-d')).filter((e) => e.reason === 'SeedApplyFailed')).toHaveLength(1);

    await putSeed('seed-d', manifest('delta', { ollama: { baseUrl: 'http://ollama:11434' } }));
    await waitFor('the fixed WebUI', () => readWebUI('delta'));
  });

  it('reports a seed that is not a WebUI manifest with a Warning Event naming the key and field', async () => {
    await putSeed('seed-e', '{"apiVersion": "webui.dev/v1alpha1", ');
    await startApplier('seed-e');
    const bad = await waitFor('a SeedInvalid Event', async () =>
      (await seedEvents('seed-e')).find((e) => e.reason === 'SeedInvalid'),
    );
    expect(bad.message).toMatch(/^seed ops\/seed-e key webui\.json: data\["webui\.json"\] is not JSON/);
    // No retry can fix it: one attempt, then nothing until the seed changes (backoff would try 3 times in 3 s).
    await new Promise((r) => setTimeout(r, 3_000));
    const attempts = warnings.filter((w) => w.includes('seed-e') && w.includes('WebUI seed not applied'));
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toContain('waiting for the seed to change');
    await putSeed('seed-e', manifest('echo', { ollama: { baseUrl: 'http://ollama:11434' } }, {}));
    await waitFor('the WebUI', () => readWebUI('echo'));
    await putSeed('seed-e', { ...manifest('echo', {}), metadata: { name: 'echo', namespace: 'elsewhere' } });
    const moved = await waitFor('a second SeedInvalid Event', async () =>
      (await seedEvents('seed-e')).find((e) => e.message?.includes('metadata.namespace')),
    );
    expect(moved.message).toContain('metadata.namespace is "elsewhere"');
  });

  it('does not take over a WebUI it did not make', async () => {
    await custom.createNamespacedCustomObject({
      ...WEBUI,
      namespace: NS,
      body: {
        apiVersion: 'webui.dev/v1alpha1',
        kind: 'WebUI',
        metadata: { name: 'foxtrot' },
        spec: { ollama: { baseUrl: 'http://mine:11434' } },
      },
    });
    await putSeed('seed-f', manifest('foxtrot', { ollama: { baseUrl: 'http://ollama:11434' } }));
    await startApplier('seed-f');
    const e = await waitFor('a SeedConflict Event', async () =>
      (await seedEvents('seed-f')).find((x) => x.reason === 'SeedConflict'),
    );
    expect(e.message).toContain('WebUI ops/foxtrot already exists and was not made from this seed');
    const w = (await readWebUI('foxtrot')) as WebUI & { metadata: { ownerReferences?: unknown } };
    expect(w.spec.ollama.baseUrl).toBe('http://mine:11434');
    expect(w.metadata.ownerReferences).toBeUndefined();
  });

  it('brings a deleted WebUI back, and deleting the seed deletes the WebUI (garbage collector)', async () => {
    await putSeed('seed-g', manifest('golf', { ollama: { baseUrl: 'http://ollama:11434' } }));
    await startApplier('seed-g');
    const first = await waitFor('the WebUI', () => readWebUI('golf'));
    await custom.deleteNamespacedCustomObject({ ...WEBUI, namespace: NS, name: 'golf' });
    await waitFor('a new WebUI', async () => {
      const w = await readWebUI('golf');
      return w && w.metadata.uid !== first.metadata.uid;
    });

    await core.deleteNamespacedConfigMap({ name: 'seed-g', namespace: NS });
    await waitFor('the WebUI gone', async () => (await readWebUI('golf')) === undefined, 60_000);
    // And the applier does not bring it back without its seed.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await readWebUI('golf')).toBeUndefined();
  });
});
