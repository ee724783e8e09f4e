/**
 * The operator against a real kube-apiserver + kube-controller-manager (GC,
 * Deployment and ReplicaSet controllers). There is no kubelet: tests mark pods
 * ready themselves to finish rollouts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  NetworkingV1Api,
  PolicyV1Api,
  type V1Container,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type FakeOllama, startFakeOllama } from '../../test/fake-ollama/fake-ollama.ts';
import { applyCrdFile, type ControlPlane, startControlPlane } from '../../test/harness/control-plane.ts';
import { freePort } from '../../test/postgres/postgres.ts';
import { buildOperator } from '../scripts/build-operator.ts';
import type { WebUI } from '../src/api/v1alpha1/webui.ts';
import { packagedDefaultImage } from '../src/config.ts';
import type { WebUIController } from '../src/controller/controller.ts';
import { USER_AGENT } from '../src/kube/rest.ts';
import { FIELD_MANAGER } from '../src/render/meta.ts';
import {
  type Clients,
  clients,
  createWebUI,
  deployment,
  getWebUI,
  MERGE,
  markPodsReady,
  patchWebUI,
  startController,
  waitFor,
} from './support.ts';

const NS = 'chat';
const ROOT = join(import.meta.dirname, '..', '..');
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
const OLLAMA_HOST = 'ollama.ollama.svc:11434';
const OLLAMA = `http://${OLLAMA_HOST}`;

let cp: ControlPlane;
let c: Clients;
let ollama: FakeOllama;
let controller: WebUIController;

function container(d: V1Deployment | undefined): V1Container {
  const x = d?.spec?.template.spec?.containers[0];
  if (!x) throw new Error('no container');
  return x;
}

function env(d: V1Deployment | undefined): Record<string, string | undefined> {
  return Object.fromEntries((container(d).env ?? []).map((e) => [e.name, e.value]));
}

function cond(w: WebUI, type: string) {
  return w.status?.conditions?.find((x) => x.type === type);
}

const hash = (d: V1Deployment | undefined) =>
  d?.spec?.template.metadata?.annotations?.['webui.dev/config-hash'];

async function readyWebUI(name: string): Promise<WebUI> {
  return waitFor(`${name} Ready`, async () => {
    await markPodsReady(c, NS, `app.kubernetes.io/instance=${name}`);
    const w = await getWebUI(c, NS, name);
    return cond(w, 'Ready')?.status === 'True' && w.status?.observedGeneration === w.metadata.generation && w;
  });
}

beforeAll(async () => {
  cp = await startControlPlane({ controllerManager: true, auditLog: true });
  await applyCrdFile(cp, join(ROOT, 'crds', 'webui.dev_webuis.yaml'));
  c = clients(cp.kubeConfig);
  await c.core.createNamespace({ body: { metadata: { name: NS } } });
  // Pods need the namespace's default ServiceAccount, created by the controller manager.
  await waitFor('default ServiceAccount', async () =>
    c.core.readNamespacedServiceAccount({ name: 'default', namespace: NS }),
  );
  ollama = await startFakeOllama({ version: '0.9.9' });
  controller = await startController(cp.kubeconfigPath, {
    namespaces: [NS],
    hosts: { [OLLAMA_HOST]: ollama.url },
  });
});

afterAll(async () => {
  await controller?.stop();
  await ollama?.close();
  await cp?.stop();
});

describe('a WebUI', () => {
  it('produces every child with the right env, probes and security context', async () => {
    await createWebUI(c, NS, 'alpha', {
      ollama: { baseUrl: OLLAMA, timeoutSeconds: 600 },
      auth: { enableSignup: false, defaultUserRole: 'user' },
    });
    const backend = await waitFor('backend Deployment', () => deployment(c, NS, 'alpha-backend'));
    const frontend = await waitFor('frontend Deployment', () => deployment(c, NS, 'alpha-frontend'));
    const e = env(backend);
    expect(e).toMatchObject({
      OLLAMA_BASE_URL: OLLAMA,
      OLLAMA_BASE_URLS: OLLAMA,
      AIOHTTP_CLIENT_TIMEOUT: '600',
      ENABLE_SIGNUP: 'false',
      DEFAULT_USER_ROLE: 'user',
      DATA_DIR: '/data',
      WEBUI_MANAGED_SETTINGS: 'OLLAMA_BASE_URLS,ENABLE_SIGNUP,DEFAULT_USER_ROLE',
    });
    const keyRef = container(backend).env?.find((x) => x.name === 'WEBUI_SECRET_KEY')?.valueFrom
      ?.secretKeyRef;
    expect(keyRef).toEqual({ name: 'alpha-secret-key', key: 'secret-key' });
    expect(container(backend).args).toEqual(['serve', '--mode', 'api']);
    expect(container(backend).livenessProbe?.httpGet?.path).toBe('/health');
    expect(container(backend).readinessProbe?.httpGet?.path).toBe('/ready');
    expect(container(backend).securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(backend.spec?.strategy?.type).toBe('Recreate');
    expect(backend.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'WebUI',
      name: 'alpha',
      controller: true,
    });
    expect(env(frontend).BACKEND_URL).toBe(`http://alpha-backend.${NS}.svc:8080`);

    const secret = await c.core.readNamespacedSecret({ name: 'alpha-secret-key', namespace: NS });
    expect(Buffer.from(secret.data?.['secret-key'] ?? '', 'base64').length).toBeGreaterThan(30);
    const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'alpha-data', namespace: NS });
    expect(pvc.metadata?.ownerReferences).toBeUndefined();
    const policy = cp.kubeConfig.makeApiClient(PolicyV1Api);
    for (const component of ['backend', 'frontend']) {
      const pdb = await waitFor(`${component} PodDisruptionBudget`, () =>
        policy.readNamespacedPodDisruptionBudget({ name: `alpha-${component}`, namespace: NS }),
      );
      expect(pdb.spec?.maxUnavailable).toBe(1);
      expect(pdb.spec?.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
      expect(pdb.spec?.selector?.matchLabels?.['app.kubernetes.io/component']).toBe(component);
      expect(pdb.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'WebUI', name: 'alpha' });
    }
    const backendSvc = await c.core.readNamespacedService({ name: 'alpha-backend', namespace: NS });
    const frontendSvc = await c.core.readNamespacedService({ name: 'alpha-frontend', namespace: NS });
    const netpol = await waitFor('the backend NetworkPolicy', () =>
      cp.kubeConfig
        .makeApiClient(NetworkingV1Api)
        .readNamespacedNetworkPolicy({ name: 'alpha-backend', namespace: NS })
        .catch(() => undefined),
    );
    expect(e.FORWARDED_ALLOW_IPS).toBe('*');
    expect(container(frontend).securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container(frontend).args).toEqual(['serve', '--mode', 'frontend']);
    // Every child: app.kubernetes.io labels, written only by server-side apply under one field manager.
    const children = [
      ['secret-key', secret.metadata],
      ['data', pvc.metadata],
      ['backend', backend.metadata],
      ['frontend', frontend.metadata],
      ['backend', backendSvc.metadata],
      ['frontend', frontendSvc.metadata],
      ['backend', netpol.metadata],
    ] as const;
    for (const [component, meta] of children) {
      expect(meta?.labels, meta?.name).toMatchObject({
        'app.kubernetes.io/name': 'webui',
        'app.kubernetes.io/instance': 'alpha',
        'app.kubernetes.io/component': component,
        'app.kubernetes.io/managed-by': 'webui-operator',
        'app.kubernetes.io/part-of': 'webui',
      });
      const ours = (meta?.managedFields ?? []).filter((m) => m.manager === FIELD_MANAGER);
      expect(ours.length, meta?.name).toBeGreaterThan(0);
      const appliers = (meta?.managedFields ?? [])
        .filter((m) => m.operation === 'Apply')
        .map((m) => m.manager);
      if (component === 'secret-key') {
        // Created once (a POST: the operator has no patch on Secrets) and never written again.
        expect(new Set(ours.map((m) => m.operation)), meta?.name).toEqual(new Set(['Update']));
        expect(appliers, meta?.name).toEqual([]);
      } else {
        expect(new Set(ours.map((m) => m.operation)), meta?.name).toEqual(new Set(['Apply']));
        expect(new Set(appliers), meta?.name).toEqual(new Set([FIELD_MANAGER]));
      }
      if (component !== 'data')
        expect(meta?.ownerReferences?.[0], meta?.name).toMatchObject({
          kind: 'WebUI',
          name: 'alpha',
          controller: true,
          blockOwnerDeletion: true,
        });
    }

    const w = await readyWebUI('alpha');
    expect(w.status?.url).toBe(`http://alpha-frontend.${NS}.svc/`);
    expect(cond(w, 'OllamaReachable')).toMatchObject({ status: 'True', reason: 'Reachable' });
    expect(cond(w, 'Progressing')?.status).toBe('False');
    expect(cond(w, 'Degraded')?.status).toBe('False');
    expect(w.status?.backend?.readyReplicas).toBe(1);
    const events = await c.core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: 'involvedObject.name=alpha',
    });
    expect(events.items.map((x) => x.reason)).toEqual(expect.arrayContaining(['Created', 'Ready']));
  });

  it('keeps the generated secret key across reconciles', async () => {
    const before = await c.core.readNamespacedSecret({ name: 'alpha-secret-key', namespace: NS });
    await patchWebUI(c, NS, 'alpha', { spec: { auth: { defaultUserRole: 'pending' } } });
    await waitFor(
      'env updated',
      async () => env(await deployment(c, NS, 'alpha-backend')).DEFAULT_USER_ROLE === 'pending',
    );
    const after = await c.core.readNamespacedSecret({ name: 'alpha-secret-key', namespace: NS });
    expect(after.data).toEqual(before.data);
  });

  it('rolls the pods on a config change and not on a no-op change', async () => {
    await readyWebUI('alpha');
    const start = await deployment(c, NS, 'alpha-backend');
    const startFrontend = await deployment(c, NS, 'alpha-frontend');
    // Label-only edit and a change the pods do not see (Service port).
    await patchWebUI(c, NS, 'alpha', {
      metadata: { labels: { team: 'blue' } },
      spec: { service: { port: 8081 } },
    });
    await waitFor('service port', async () => {
      const s = await c.core.readNamespacedService({ name: 'alpha-frontend', namespace: NS });
      return s.spec?.ports?.[0]?.port === 8081;
    });
    await waitFor('status caught up', async () => {
      const w = await getWebUI(c, NS, 'alpha');
      return w.status?.observedGeneration === w.metadata.generation;
    });
    const same = await deployment(c, NS, 'alpha-backend');
    expect(same?.metadata?.generation).toBe(start?.metadata?.generation);
    expect(hash(same)).toBe(hash(start));
    expect((await deployment(c, NS, 'alpha-frontend'))?.metadata?.generation).toBe(
      startFrontend?.metadata?.generation,
    );

    await patchWebUI(c, NS, 'alpha', { spec: { ollama: { timeoutSeconds: 900 } } });
    const rolled = await waitFor('backend rolled', async () => {
      const d = await deployment(c, NS, 'alpha-backend');
      return env(d).AIOHTTP_CLIENT_TIMEOUT === '900' && d;
    });
    expect(hash(rolled)).not.toBe(hash(start));
    expect((await deployment(c, NS, 'alpha-frontend'))?.metadata?.generation).toBe(
      startFrontend?.metadata?.generation,
    );
    await readyWebUI('alpha');
    // The pods really rolled: the running backend pod carries the new hash.
    const pods = await c.core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/instance=alpha,app.kubernetes.io/component=backend',
    });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.map((p) => p.metadata?.annotations?.['webui.dev/config-hash'])).toEqual([hash(rolled)]);
  });

  it('runs a config reset once per token and records it in status', async () => {
    await patchWebUI(c, NS, 'alpha', { spec: { config: { resetToken: 'reset-1' } } });
    const d = await waitFor('reset env', async () => {
      const x = await deployment(c, NS, 'alpha-backend');
      return env(x).CONFIG_RESET_TOKEN === 'reset-1' && x;
    });
    expect(env(d).RESET_CONFIG_ON_START).toBe('true');
    const w = await waitFor('ConfigReset completed', async () => {
      await markPodsReady(c, NS, 'app.kubernetes.io/instance=alpha');
      const x = await getWebUI(c, NS, 'alpha');
      return x.status?.configReset?.token === 'reset-1' && x;
    });
    expect(cond(w, 'ConfigReset')).toMatchObject({ status: 'True', reason: 'ResetCompleted' });
    expect(Date.parse(w.status?.configReset?.completedAt ?? '')).not.toBeNaN();
    const events = await c.core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: 'involvedObject.name=alpha',
    });
    expect(events.items.map((x) => x.reason)).toEqual(
      expect.arrayContaining(['ConfigResetStarted', 'ConfigResetCompleted']),
    );
  });

  it('makes zero writes in a steady state (counted in the audit log)', async () => {
    await readyWebUI('alpha');
    // Converged: no operator write for a while, then a window spanning several resyncs (2 s each).
    const operatorWrites = async () =>
      (await cp.readAuditEvents()).filter((e) =>
        (e.userAgent ?? '').startsWith(USER_AGENT.split('/')[0] ?? ''),
      );
    let seen = -1;
    await waitFor('operator quiet', async () => {
      const n = (await operatorWrites()).length;
      const quiet = n === seen;
      seen = n;
      if (!quiet) await new Promise((r) => setTimeout(r, 3000));
      return quiet;
    });
    const before = (await operatorWrites()).length;
    expect(before).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 8000));
    const window = (await operatorWrites()).slice(before);
    expect(
      window.map(
        (e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name} ${e.objectRef?.subresource ?? ''}`,
      ),
    ).toEqual([]);
  });
});

describe('conditions', () => {
  it('explains a loopback Ollama URL and reports an unreachable one', async () => {
    await createWebUI(c, NS, 'loop', { ollama: { baseUrl: 'http://127.0.0.1:1' } });
    const w = await waitFor('loopback condition', async () => {
      const x = await getWebUI(c, NS, 'loop');
      return cond(x, 'OllamaReachable') && x;
    });
    const oc = cond(w, 'OllamaReachable');
    expect(oc).toMatchObject({ status: 'False', reason: 'LoopbackURL' });
    expect(oc?.message).toContain('is the WebUI pod itself');
    expect(oc?.message).toContain('Service DNS name');
    // The printer columns: `kubectl get wui` shows Ollama=False for it.
    const got = spawnSync(
      join(ROOT, 'bin', 'kubectl'),
      ['--kubeconfig', cp.kubeconfigPath, '-n', NS, 'get', 'wui', 'loop'],
      {
        encoding: 'utf8',
      },
    );
    expect(got.status, got.stderr).toBe(0);
    const [header, row] = got.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'READY', 'URL', 'OLLAMA', 'AGE']);
    expect(row?.slice(0, 4)).toEqual(['loop', cond(w, 'Ready')?.status, w.status?.url, 'False']);

    // This operator runs outside any cluster: a Service name does not resolve here, which says nothing
    // about the WebUI's pods, so the condition says so instead of "unreachable".
    await createWebUI(c, NS, 'outside', { ollama: { baseUrl: 'http://ollama-down.ollama.svc:11434' } });
    const o = await waitFor('outside-the-cluster condition', async () => {
      const x = await getWebUI(c, NS, 'outside');
      return cond(x, 'OllamaReachable') && x;
    });
    expect(cond(o, 'OllamaReachable')).toMatchObject({ status: 'Unknown', reason: 'OperatorOutsideCluster' });
    expect(cond(o, 'OllamaReachable')?.message).toContain('the operator runs outside the cluster');

    // An address that resolves and refuses (a closed port on this machine's own network address).
    const hostIp = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;
    expect(hostIp, 'a non-loopback IPv4 address on this machine').toBeDefined();
    await createWebUI(c, NS, 'down', { ollama: { baseUrl: `http://${hostIp}:${await freePort()}` } });
    const d = await waitFor('unreachable condition', async () => {
      const x = await getWebUI(c, NS, 'down');
      return cond(x, 'OllamaReachable') && x;
    });
    expect(cond(d, 'OllamaReachable')).toMatchObject({ status: 'False', reason: 'Unreachable' });
    // The Event follows the status write: wait for it rather than race it.
    await waitFor('an OllamaUnreachable Warning Event', async () => {
      const events = await c.core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: 'involvedObject.name=down',
      });
      return events.items.some((x) => x.reason === 'OllamaUnreachable' && x.type === 'Warning');
    });
  });

  it('reports a missing database Secret as Degraded', async () => {
    await createWebUI(c, NS, 'pg', {
      ollama: { baseUrl: OLLAMA },
      database: { urlSecretRef: { name: 'pg-url' } },
    });
    const w = await waitFor('degraded', async () => {
      const x = await getWebUI(c, NS, 'pg');
      return cond(x, 'Degraded')?.status === 'True' && x;
    });
    expect(cond(w, 'Degraded')?.message).toContain('Secret pg-url not found');
    expect(cond(w, 'Ready')?.status).toBe('False');
    // No claim with an external database.
    await expect(
      c.core.readNamespacedPersistentVolumeClaim({ name: 'pg-data', namespace: NS }),
    ).rejects.toThrow();
  });
});

describe('ingress', () => {
  it('creates the Ingress, reports its https URL, and deletes it when turned off', async () => {
    await createWebUI(c, NS, 'web', {
      ollama: { baseUrl: OLLAMA },
      ingress: { host: 'chat.example.com', tlsSecretName: 'chat-tls' },
    });
    const net = cp.kubeConfig.makeApiClient(NetworkingV1Api);
    const ing = await waitFor('ingress', async () =>
      net.readNamespacedIngress({ name: 'web', namespace: NS }),
    );
    // The API straight to the backend (spec.ingress.apiRoute: backend, the default), the rest to the frontend.
    expect(
      ing.spec?.rules?.[0]?.http?.paths.map((p) => `${p.pathType} ${p.path} ${p.backend.service?.name}`),
    ).toEqual([
      'Prefix /api web-backend',
      'Prefix /ollama web-backend',
      'Prefix /health web-backend',
      'Exact /openapi.json web-backend',
      'Prefix / web-frontend',
    ]);
    // The backend's NetworkPolicy then admits the ingress controller too (any source, none listed).
    const policy = await waitFor('policy with the ingress rule', async () => {
      const p = await net.readNamespacedNetworkPolicy({ name: 'web-backend', namespace: NS });
      return p.spec?.ingress?.length === 2 && p;
    });
    expect(policy.spec?.ingress?.[1]).toEqual({ ports: [{ port: 'http', protocol: 'TCP' }] });
    const w = await waitFor('url', async () => {
      const x = await getWebUI(c, NS, 'web');
      return x.status?.url === 'https://chat.example.com/' && x;
    });
    expect(w.status?.url).toBe('https://chat.example.com/');
    await patchWebUI(c, NS, 'web', { spec: { ingress: { enabled: false } } });
    await waitFor('ingress deleted', async () => {
      try {
        await net.readNamespacedIngress({ name: 'web', namespace: NS });
        return false;
      } catch {
        return true;
      }
    });
    await waitFor(
      'service url',
      async () => (await getWebUI(c, NS, 'web')).status?.url === `http://web-frontend.${NS}.svc/`,
    );
    // Without the Ingress only the frontend pods may reach the backend again.
    await waitFor('policy without the ingress rule', async () => {
      const p = await net.readNamespacedNetworkPolicy({ name: 'web-backend', namespace: NS });
      return p.spec?.ingress?.length === 1;
    });
  });
});

describe('storage switch', () => {
  it('moves a backend from Postgres (RollingUpdate) back to SQLite (Recreate, with a claim)', async () => {
    await c.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'switch-db' }, stringData: { url: 'postgres://u:p@db.example:5432/webui' } },
    });
    await createWebUI(c, NS, 'switch', {
      ollama: { baseUrl: OLLAMA },
      database: { urlSecretRef: { name: 'switch-db' } },
    });
    const pg = await waitFor('postgres backend', () => deployment(c, NS, 'switch-backend'));
    expect(pg.spec?.strategy?.type).toBe('RollingUpdate');
    expect(container(pg).env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe(
      'switch-db',
    );
    await patchWebUI(c, NS, 'switch', { spec: { database: null } });
    const sqlite = await waitFor('sqlite backend', async () => {
      const d = await deployment(c, NS, 'switch-backend');
      const noDb = !container(d).env?.some((e) => e.name === 'DATABASE_URL');
      return d?.spec?.strategy?.type === 'Recreate' && noDb && d;
    });
    expect(sqlite.spec?.strategy?.rollingUpdate).toBeUndefined();
    expect(sqlite.spec?.template.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName).toBe('switch-data');
    await c.core.readNamespacedPersistentVolumeClaim({ name: 'switch-data', namespace: NS });
  });
});

describe('referenced Secrets', () => {
  // A controller of its own whose resync is an hour: only the Secret watch can roll the backend in time.
  const RNS = 'rotate';
  let slow: WebUIController;
  beforeAll(async () => {
    await c.core.createNamespace({ body: { metadata: { name: RNS } } });
    slow = await startController(cp.kubeconfigPath, {
      namespaces: [RNS],
      hosts: { [OLLAMA_HOST]: ollama.url },
      resyncMs: 3_600_000,
    });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it('rolls the backend as soon as a database URL Secret is created or changed, without a resync', async () => {
    await createWebUI(c, RNS, 'pg', {
      ollama: { baseUrl: OLLAMA },
      database: { urlSecretRef: { name: 'pg-url' } },
    });
    await waitFor('degraded without the Secret', async () => {
      const w = await getWebUI(c, RNS, 'pg');
      return cond(w, 'Degraded')?.message?.includes('Secret pg-url not found') && w;
    });
    // Creating the missing Secret clears Degraded and gives the backend its hash.
    await c.core.createNamespacedSecret({
      namespace: RNS,
      body: { metadata: { name: 'pg-url' }, stringData: { url: 'postgres://u:p@db-1:5432/webui' } },
    });
    await waitFor(
      'not degraded',
      async () => cond(await getWebUI(c, RNS, 'pg'), 'Degraded')?.status === 'False',
      20_000,
    );
    const before = hash(await waitFor('backend', () => deployment(c, RNS, 'pg-backend')));
    expect(before).toBeDefined();
    await c.core.replaceNamespacedSecret({
      name: 'pg-url',
      namespace: RNS,
      body: { metadata: { name: 'pg-url' }, stringData: { url: 'postgres://u:p@db-2:5432/webui' } },
    });
    const rolled = await waitFor(
      'backend rolled',
      async () => {
        const d = await deployment(c, RNS, 'pg-backend');
        return hash(d) !== before && d;
      },
      20_000,
    );
    // A label change leaves the value alone: the reconcile it causes changes nothing.
    const generation = rolled.metadata?.generation;
    await c.core.patchNamespacedSecret(
      { name: 'pg-url', namespace: RNS, body: { metadata: { labels: { team: 'a' } } } },
      MERGE,
    );
    await slow.whenIdle();
    await new Promise((r) => setTimeout(r, 500));
    await slow.whenIdle();
    expect((await deployment(c, RNS, 'pg-backend'))?.metadata?.generation).toBe(generation);
  });
});

describe('validation', () => {
  async function refused(name: string, spec: object): Promise<string> {
    try {
      await createWebUI(c, NS, name, spec as never);
    } catch (e) {
      if (e instanceof ApiException) return (JSON.parse(String(e.body)) as { message: string }).message;
      throw e;
    }
    throw new Error(`${name} was accepted`);
  }

  it('refuses invalid specs with the CEL message', async () => {
    expect(await refused('bad1', { ollama: { baseUrl: OLLAMA }, backend: { replicas: 2 } })).toContain(
      'spec.backend.replicas > 1 needs an external database',
    );
    expect(await refused('bad2', { ollama: { baseUrl: 'ftp://ollama:21' } })).toContain(
      'must be an http(s) URL',
    );
    expect(await refused('bad2b', { ollama: { baseUrls: [OLLAMA, 'javascript:alert(1)'] } })).toContain(
      'must be an http(s) URL',
    );
    expect(await refused('bad3', { ollama: { baseUrl: OLLAMA, baseUrls: [OLLAMA] } })).toContain(
      'set exactly one of spec.ollama.baseUrl or spec.ollama.baseUrls',
    );
    expect(
      await refused('bad4', {
        ollama: { baseUrl: OLLAMA },
        extraEnv: [{ name: 'ENABLE_SIGNUP', value: 'true' }],
      }),
    ).toContain('spec.extraEnv may not set variables the operator manages');
    expect(await refused('bad5', { ollama: { baseUrl: OLLAMA }, ingress: { enabled: true } })).toContain(
      'spec.ingress.host is required',
    );
    const ingress = (path: string) => ({
      ollama: { baseUrl: OLLAMA },
      ingress: { host: 'a.example.com', path },
    });
    expect(await refused('bad6', ingress('/team/../admin'))).toContain(
      'spec.ingress.path must not contain . or .. segments',
    );
    expect(await refused('bad7', ingress('/chat(.*)'))).toContain('spec.ingress.path');
    expect(
      await refused('bad8', {
        ...ingress('/chat'),
        network: { ingressControllers: [{ namespaceLabels: { team: 'edge' } }, {}] },
      }),
    ).toContain('an ingress controller needs namespaceLabels, podLabels or both');
    expect(
      await refused('bad9', { ...ingress('/'), ingress: { host: 'a.example.com', apiRoute: 'nginx' } }),
    ).toContain('spec.ingress.apiRoute');
  });
});

describe('kubectl', () => {
  it('explains fields with the CRD descriptions', () => {
    const kubectl = join(ROOT, 'bin', 'kubectl');
    const explain = (field: string) => {
      const r = spawnSync(kubectl, ['--kubeconfig', cp.kubeconfigPath, 'explain', field], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.replace(/\s+/g, ' '); // kubectl wraps long lines
    };
    expect(explain('webui.spec.ollama.baseUrl')).toContain('localhost inside a pod is the pod itself');
    // One level up: what the object is for and what each field sets.
    const ollama = explain('webui.spec.ollama');
    expect(ollama).toContain('Set exactly one of baseUrl or baseUrls');
    expect(ollama).toMatch(/timeoutSeconds\s*<integer>\s*Seconds one whole Ollama response may take/);
    expect(explain('wui.spec.persistence.retainOnDelete')).toContain('re-created WebUI with the same name');
  });
});

describe('examples', () => {
  it('are accepted by the API server as they are (server-side dry run)', async () => {
    const dir = join(ROOT, 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
        const obj = doc.toJS() as { kind: string; metadata: { name: string }; spec: object };
        if (obj.kind !== 'WebUI') continue;
        await c.custom.createNamespacedCustomObject({
          group: 'webui.dev',
          version: 'v1alpha1',
          plural: 'webuis',
          namespace: NS,
          dryRun: 'All',
          body: { apiVersion: 'webui.dev/v1alpha1', ...obj },
        });
      }
    }
  });
});

describe('deletion', () => {
  it('garbage-collects the children but keeps a retained claim, which a re-created WebUI reuses', async () => {
    await createWebUI(c, NS, 'gone', { ollama: { baseUrl: OLLAMA } });
    await waitFor('children', () => deployment(c, NS, 'gone-frontend'));
    const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'gone-data', namespace: NS });
    await c.custom.deleteNamespacedCustomObject({
      group: 'webui.dev',
      version: 'v1alpha1',
      plural: 'webuis',
      namespace: NS,
      name: 'gone',
    });
    await waitFor(
      'children collected',
      async () => !(await deployment(c, NS, 'gone-backend')) && !(await deployment(c, NS, 'gone-frontend')),
    );
    await waitFor('secret collected', async () => {
      try {
        await c.core.readNamespacedSecret({ name: 'gone-secret-key', namespace: NS });
        return false;
      } catch {
        return true;
      }
    });
    const kept = await c.core.readNamespacedPersistentVolumeClaim({ name: 'gone-data', namespace: NS });
    expect(kept.metadata?.deletionTimestamp).toBeUndefined();

    await createWebUI(c, NS, 'gone', { ollama: { baseUrl: OLLAMA } });
    await waitFor('re-created backend', () => deployment(c, NS, 'gone-backend'));
    const reused = await c.core.readNamespacedPersistentVolumeClaim({ name: 'gone-data', namespace: NS });
    expect(reused.metadata?.uid).toBe(pvc.metadata?.uid);
  });

  it('deletes the claim with retainOnDelete: false', async () => {
    await createWebUI(c, NS, 'temp', { ollama: { baseUrl: OLLAMA }, persistence: { retainOnDelete: false } });
    const pvc = await waitFor('claim', async () =>
      c.core.readNamespacedPersistentVolumeClaim({ name: 'temp-data', namespace: NS }),
    );
    expect(pvc.metadata?.ownerReferences?.[0]?.name).toBe('temp');
    await c.custom.deleteNamespacedCustomObject({
      group: 'webui.dev',
      version: 'v1alpha1',
      plural: 'webuis',
      namespace: NS,
      name: 'temp',
    });
    // The pvc-protection finalizer stays without its controller; the delete itself is what GC does.
    await waitFor('claim deleted', async () => {
      try {
        const x = await c.core.readNamespacedPersistentVolumeClaim({ name: 'temp-data', namespace: NS });
        return x.metadata?.deletionTimestamp !== undefined;
      } catch {
        return true;
      }
    });
  });
});

describe('the webui-operator binary', () => {
  // The sources (make run-operator) and the bundle the image runs (operator/scripts/build-operator.ts).
  const entries = [
    // The sources get the image from the environment; the bundle must find package.json for the default.
    {
      variant: 'sources',
      ns: 'bin',
      entry: () => join(ROOT, 'operator', 'bin', 'webui-operator.ts'),
      image: 'example.com/webui:bin',
    },
    { variant: 'bundle', ns: 'bundle', entry: () => bundleEntry, image: undefined },
  ];
  let bundleEntry = '';
  const bundleDir = mkdtempSync(join(ROOT, '.tmp', 'operator-bundle-'));
  beforeAll(async () => {
    bundleEntry = await buildOperator(bundleDir);
  });
  afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

  it.each(entries)(
    '$variant: runs against KUBECONFIG, reconciles its namespaces, serves /readyz and exits 0 on SIGTERM',
    async ({ ns, entry, image }) => {
      await c.core.createNamespace({ body: { metadata: { name: ns } } });
      await c.core.createNamespace({ body: { metadata: { name: `${ns}-other` } } });
      await createWebUI(c, `${ns}-other`, 'ignored', { ollama: { baseUrl: OLLAMA } });
      const port = await freePort();
      const proc = spawn(process.execPath, [entry()], {
        env: {
          PATH: process.env.PATH ?? '',
          KUBECONFIG: cp.kubeconfigPath,
          WATCH_NAMESPACES: ns,
          ...(image ? { DEFAULT_WEBUI_IMAGE: image } : {}),
          HTTP_PORT: String(port),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      proc.stdout.on('data', (b: Buffer) => {
        output += b.toString();
      });
      proc.stderr.on('data', (b: Buffer) => {
        output += b.toString();
      });
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      try {
        await waitFor('readyz', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000);
        await createWebUI(c, ns, 'solo', { ollama: { baseUrl: OLLAMA } });
        const d = await waitFor('backend from the binary', () => deployment(c, ns, 'solo-backend'));
        expect(container(d).image).toBe(image ?? packagedDefaultImage(ROOT));
        // A namespace it was not told to watch is left alone (created before it started).
        expect(await deployment(c, `${ns}-other`, 'ignored-backend')).toBeUndefined();
        // A finished reconcile shows in the metrics (it ends with the periodic requeue).
        await waitFor('reconcile counted', async () =>
          /webui_operator_reconcile_total\{result="requeue"\} [1-9]/.test(
            await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
          ),
        );
      } finally {
        proc.kill('SIGTERM');
      }
      expect(await exited, output).toBe(0);
    },
  );

  it('names an unreadable KUBECONFIG on one line and exits 2', () => {
    const missing = join(cp.dir, 'no-such-kubeconfig');
    const r = spawnSync(process.execPath, [join(ROOT, 'operator', 'bin', 'webui-operator.ts')], {
      env: { PATH: process.env.PATH ?? '', KUBECONFIG: missing },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^webui-operator: KUBECONFIG: cannot read ${missing}.*point KUBECONFIG at a readable kubeconfig file$`,
      ),
    );
  });

  it('refuses a bad setting with one line naming it', async () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'operator', 'bin', 'webui-operator.ts')], {
      env: { PATH: process.env.PATH ?? '', KUBECONFIG: cp.kubeconfigPath, HTTP_PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'webui-operator: --http-port (HTTP_PORT): expected a whole number from 0 to 65535, got "eighty"',
    ]);
  });
});
