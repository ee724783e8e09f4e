// RBAC proven, not assumed: the chart is installed into a real API server (RBAC on), and the real operator
// process runs with a token of the chart's ServiceAccount and the settings from the chart's ConfigMap.
// It must reconcile a WebUI fully (children, status, Events) in cluster scope and in namespace scope,
// apply the WebUI of the chart's seed (webui.create) with the seed Role's by-name permissions, and it
// must NOT converge when the chart's Role loses the permission to create Secrets or delete Ingresses.
// The blast radius is proven too: with the chart's defaults (namespace scope) the operator's token reads
// no Secret outside its namespace, and in no scope can it change or delete an existing Secret.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CONDITION_TYPES } from '../../operator/src/api/v1alpha1/webui.ts';
import { readAuditLog } from '../harness/audit.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import { CHART_DIR, freePort, type HelmRunner, helmRunner, parseManifests } from './helm.ts';
import { type ChartOperator, chartNames, runChartOperator, waitFor } from './operator-process.ts';

const WEBUI = { group: 'webui.dev', version: 'v1alpha1', plural: 'webuis' };

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface WebUIObject {
  metadata: { generation?: number; uid?: string; ownerReferences?: { kind: string; name: string }[] };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

let cp: ControlPlane;
let h: HelmRunner;
let work: string;

// Every request a ServiceAccount makes (reads too) is audited, so the test can compare what the operator
// did with what the chart granted it.
const AUDIT_POLICY = stringify({
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  // Watches are long-running: they are logged at ResponseStarted, long before they complete.
  omitStages: ['RequestReceived', 'Panic'],
  rules: [{ level: 'Metadata', userGroups: ['system:serviceaccounts'] }, { level: 'None' }],
});
let auditLog: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'chart-rbac-'));
  const policy = join(work, 'audit-policy.yaml');
  auditLog = join(work, 'audit.log');
  writeFileSync(policy, AUDIT_POLICY);
  cp = await startControlPlane({
    extraApiServerArgs: [
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
      '--audit-log-maxbackup=0',
    ],
  });
  h = helmRunner(cp.kubeconfigPath);
});
afterAll(async () => {
  h?.cleanup();
  await cp?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** helm install of the chart; returns the ServiceAccount and ConfigMap names it created. */
async function install(release: string, namespace: string, args: string[]) {
  await h.helmOk(['install', release, CHART_DIR, '-n', namespace, '--create-namespace', ...args]);
  return chartNames(release);
}

const runOperator = (name: string, namespace: string, chart: ReturnType<typeof chartNames>) =>
  runChartOperator(cp, work, name, namespace, chart);

async function createWebUI(namespace: string, name: string): Promise<void> {
  await cp.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    ...WEBUI,
    namespace,
    body: {
      apiVersion: 'webui.dev/v1alpha1',
      kind: 'WebUI',
      metadata: { name, namespace },
      // .invalid never resolves: OllamaReachable is False, which the operator reports and carries on.
      spec: {
        ollama: { baseUrl: 'http://ollama.invalid:11434' },
        ingress: { enabled: true, host: `${name}.example.test` },
      },
    },
  });
}

/** Turns spec.ingress off: the operator must delete the Ingress it made. */
async function turnIngressOff(namespace: string, name: string): Promise<void> {
  const r = await h.kubectl([
    'patch',
    'webuis.webui.dev',
    name,
    '-n',
    namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { ingress: { enabled: false } } }),
  ]);
  if (r.code !== 0) throw new Error(`kubectl patch failed: ${r.stderr}`);
}

async function ingressExists(namespace: string, name: string): Promise<boolean> {
  try {
    await cp.kubeConfig.makeApiClient(NetworkingV1Api).readNamespacedIngress({ name, namespace });
    return true;
  } catch {
    return false;
  }
}

async function readWebUI(namespace: string, name: string): Promise<WebUIObject> {
  return (await cp.kubeConfig
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ ...WEBUI, namespace, name })) as WebUIObject;
}

/** The children of a WebUI that do not exist (yet). */
async function missingChildren(namespace: string, name: string): Promise<string[]> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
  const net = cp.kubeConfig.makeApiClient(NetworkingV1Api);
  const checks: [string, () => Promise<unknown>][] = [
    [
      `Deployment ${name}-backend`,
      () => apps.readNamespacedDeployment({ name: `${name}-backend`, namespace }),
    ],
    [
      `Deployment ${name}-frontend`,
      () => apps.readNamespacedDeployment({ name: `${name}-frontend`, namespace }),
    ],
    [`Service ${name}-backend`, () => core.readNamespacedService({ name: `${name}-backend`, namespace })],
    [`Service ${name}-frontend`, () => core.readNamespacedService({ name: `${name}-frontend`, namespace })],
    [`Secret ${name}-secret-key`, () => core.readNamespacedSecret({ name: `${name}-secret-key`, namespace })],
    [
      `PersistentVolumeClaim ${name}-data`,
      () => core.readNamespacedPersistentVolumeClaim({ name: `${name}-data`, namespace }),
    ],
    [`Ingress ${name}`, () => net.readNamespacedIngress({ name, namespace })],
  ];
  const missing: string[] = [];
  for (const [what, read] of checks) {
    try {
      await read();
    } catch {
      missing.push(what);
    }
  }
  return missing;
}

async function eventReasons(namespace: string, name: string): Promise<string[]> {
  const events = await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=WebUI,involvedObject.name=${name}`,
  });
  return events.items.map((e) => e.reason ?? '');
}

/** Waits for the status the operator writes for the current generation; returns it. */
async function statusWritten(op: ChartOperator, namespace: string, name: string) {
  return waitFor(`status of ${namespace}/${name}`, op, async () => {
    const w = await readWebUI(namespace, name);
    const ready = w.status?.conditions?.find((c) => c.type === 'Ready');
    return w.status?.observedGeneration === w.metadata.generation && ready ? w : undefined;
  });
}

async function proveConverges(op: ChartOperator, namespace: string, name: string) {
  await createWebUI(namespace, name);
  await waitFor(`children of ${namespace}/${name}`, op, async () =>
    (await missingChildren(namespace, name)).length === 0 ? true : undefined,
  );
  const w = await statusWritten(op, namespace, name);
  const types = (w.status?.conditions ?? []).map((c) => c.type).sort();
  expect(types).toEqual([...CONDITION_TYPES].sort());
  expect(w.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  const reasons = await waitFor(`events of ${namespace}/${name}`, op, async () => {
    const r = await eventReasons(namespace, name);
    return r.includes('Created') ? r : undefined;
  });
  expect(reasons).not.toContain('ApplyFailed');
  expect(op.log()).not.toMatch(/forbidden/i);
}

/** "group/resource[/subresource] verb" for every verb of every resource a set of rules grants. */
function granted(rules: V1PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules)
    for (const g of r.apiGroups ?? [])
      for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res} ${v}`);
  return out;
}

/**
 * The same triples for the requests `username` made, from the audit log. A server-side apply that
 * creates its object (201) needs the create verb too: the API server authorizes it as a create.
 */
async function used(username: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const e of await readAuditLog(auditLog)) {
    if (e.user.username !== username || !e.objectRef?.resource) continue;
    const o = e.objectRef;
    const res = `${o.apiGroup ?? ''}/${o.resource}${o.subresource ? `/${o.subresource}` : ''}`;
    out.add(`${res} ${e.verb}`);
    if (e.verb === 'patch' && e.responseStatus?.code === 201) out.add(`${res} create`);
  }
  return out;
}

/** The operator's token can read a Secret it made, but not change or delete it (nor any other). */
async function proveSecretsReadOnly(asCore: CoreV1Api, namespace: string, name: string): Promise<void> {
  await asCore.readNamespacedSecret({ name, namespace });
  await expect(
    asCore.patchNamespacedSecret(
      { name, namespace, body: { metadata: { labels: { tampered: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  ).rejects.toThrow(/403|forbidden/i);
  const live = await asCore.readNamespacedSecret({ name, namespace });
  await expect(asCore.replaceNamespacedSecret({ name, namespace, body: live })).rejects.toThrow(
    /403|forbidden/i,
  );
  await expect(asCore.deleteNamespacedSecret({ name, namespace })).rejects.toThrow(/403|forbidden/i);
}

/** A second release, in namespace scope, next to the first one's CRD. */
const NAMESPACED = ['--set', 'crds.install=false', '--set', 'scope=namespace'];

/** webui.create: the chart's seed, whose WebUI the operator applies with the seed Role's permissions. */
const SEEDED = 'seeded';
const SEED_VALUES = [
  '--set',
  'webui.create=true',
  '--set',
  `webui.name=${SEEDED}`,
  '--set',
  'webui.spec.ollama.baseUrl=http://ollama.invalid:11434',
];

/** The seed's WebUI, applied by the operator from the chart's seed, then reconciled like any other. */
async function proveSeeded(op: ChartOperator, namespace: string, release: string) {
  const w = await statusWritten(op, namespace, SEEDED);
  expect(w.metadata.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'ConfigMap', name: `${release}-webui-operator-webui-${SEEDED}` }),
  ]);
  await waitFor(`children of ${namespace}/${SEEDED}`, op, async () => {
    const missing = await missingChildren(namespace, SEEDED);
    // No spec.ingress in the seed: every other child.
    return missing.length === 1 && missing[0] === `Ingress ${SEEDED}` ? true : undefined;
  });
}

describe('the operator with the chart’s RBAC, against a real API server', () => {
  it('cluster scope: reconciles a WebUI in another namespace fully, and applies the seed', async () => {
    const chart = await install('wo', 'webui-system', ['--set', 'scope=cluster', ...SEED_VALUES]);
    await h.kubectl(['create', 'namespace', 'team-a']);
    const op = await runOperator('cluster', 'webui-system', chart);
    try {
      await proveConverges(op, 'team-a', 'chat');
      await proveSeeded(op, 'webui-system', 'wo');
      // spec.ingress off: the operator deletes its Ingress (delete on ingresses, uid precondition).
      await turnIngressOff('team-a', 'chat');
      await waitFor('the Ingress deleted', op, async () =>
        (await ingressExists('team-a', 'chat')) ? undefined : true,
      );
      await waitFor('a Deleted event', op, async () =>
        (await eventReasons('team-a', 'chat')).includes('Deleted') ? true : undefined,
      );
      const after = await statusWritten(op, 'team-a', 'chat');
      expect(after.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
      // Leader election ran on the chart's leader-election Role.
      const lease = await cp.kubeConfig
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: 'wo-webui-operator', namespace: 'webui-system' });
      expect(lease.spec?.holderIdentity).toContain('cluster-pod');

      // The `helm test` pod's command, pointed at this operator instead of its Service (no kubelet here).
      const testPod = parseManifests(await h.helmOk(['get', 'hooks', 'wo', '-n', 'webui-system'])).find(
        (o) => o.kind === 'Pod',
      ) as unknown as { spec: { containers: { command: string[] }[] } };
      const [node, ...hookArgs] = testPod.spec.containers[0]?.command ?? [];
      expect(node).toBe('node');
      const url = hookArgs.at(-1) ?? '';
      expect(url).toBe('http://wo-webui-operator.webui-system.svc:8081/healthz');
      const local = `http://127.0.0.1:${op.httpPort}/healthz`;
      const ok = spawnSync(process.execPath, [...hookArgs.slice(0, -1), local], { encoding: 'utf8' });
      expect(ok.stdout).toContain(`${local} -> 200`);
      expect(ok.status).toBe(0);
      const closed = `http://127.0.0.1:${await freePort()}/healthz`;
      expect(spawnSync(process.execPath, [...hookArgs.slice(0, -1), closed]).status).toBe(1);

      // Nothing more: every verb the chart grants was used by this run (and, as no request was
      // forbidden, everything used was granted). A Lease renewal is an update: wait for the first one.
      const user = 'system:serviceaccount:webui-system:wo-webui-operator';
      const uses = await waitFor('a Lease renewal', op, async () => {
        const u = await used(user);
        return u.has('coordination.k8s.io/leases update') ? u : undefined;
      });
      const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
      const rules = [
        ...((await rbac.readClusterRole({ name: 'wo-webui-operator' })).rules ?? []),
        ...((
          await rbac.readNamespacedRole({
            name: 'wo-webui-operator-leader-election',
            namespace: 'webui-system',
          })
        ).rules ?? []),
        ...((
          await rbac.readNamespacedRole({ name: 'wo-webui-operator-webui-seed', namespace: 'webui-system' })
        ).rules ?? []),
      ];
      const unused = [...granted(rules)].filter((g) => !uses.has(g));
      expect(unused, 'granted but never used by the operator').toEqual([]);
      const ungranted = [...uses].filter((u) => !granted(rules).has(u));
      expect(ungranted, 'used but not granted').toEqual([]);

      // The seed Role's resourceNames bite: the operator's token reads its one seed ConfigMap (list
      // with the metadata.name field selector) and its one WebUI, and nothing else by those rules.
      const as = cp.kubeConfigForToken(op.token);
      const asCore = as.makeApiClient(CoreV1Api);
      const seed = `wo-webui-operator-webui-${SEEDED}`;
      const one = await asCore.listNamespacedConfigMap({
        namespace: 'webui-system',
        fieldSelector: `metadata.name=${seed}`,
      });
      expect(one.items.map((c) => c.metadata?.name)).toEqual([seed]);
      await expect(asCore.listNamespacedConfigMap({ namespace: 'webui-system' })).rejects.toThrow(
        /403|forbidden/i,
      );
      await expect(
        asCore.listNamespacedConfigMap({
          namespace: 'webui-system',
          fieldSelector: 'metadata.name=wo-webui-operator-config',
        }),
      ).rejects.toThrow(/403|forbidden/i);
      // Even cluster-wide, no Secret can be changed or deleted, only read and created.
      await proveSecretsReadOnly(asCore, 'team-a', 'chat-secret-key');
      const asCustom = as.makeApiClient(CustomObjectsApi);
      await asCustom.getNamespacedCustomObject({ ...WEBUI, namespace: 'webui-system', name: SEEDED });
      await expect(
        asCustom.getNamespacedCustomObject({ ...WEBUI, namespace: 'team-a', name: 'chat' }),
      ).rejects.toThrow(/403|forbidden/i);
      await expect(
        asCustom.createNamespacedCustomObject({
          ...WEBUI,
          namespace: 'webui-system',
          body: { apiVersion: 'webui.dev/v1alpha1', kind: 'WebUI', metadata: { name: 'other' }, spec: {} },
        }),
      ).rejects.toThrow(/403|forbidden/i);
    } finally {
      await op.proc.stop();
    }
  });

  it('namespace scope, the default: reconciles a WebUI in its own namespace, and the seed, with only Roles; reads no Secret elsewhere', async () => {
    // No scope value: the chart's default.
    const chart = await install('ns', 'team-b', ['--set', 'crds.install=false', ...SEED_VALUES]);
    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await expect(rbac.readClusterRole({ name: 'ns-webui-operator' })).rejects.toThrow();
    const op = await runOperator('namespaced', 'team-b', chart);
    try {
      await proveConverges(op, 'team-b', 'chat');
      await proveSeeded(op, 'team-b', 'ns');

      // The blast radius: a stolen token of this ServiceAccount reads Secrets only in team-b.
      await h.kubectl(['create', 'namespace', 'team-a']);
      await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
        namespace: 'team-a',
        body: { metadata: { name: 'elsewhere' }, stringData: { password: 'not for the operator' } },
      });
      const asCore = cp.kubeConfigForToken(op.token).makeApiClient(CoreV1Api);
      await expect(asCore.readNamespacedSecret({ name: 'elsewhere', namespace: 'team-a' })).rejects.toThrow(
        /403|forbidden/i,
      );
      await expect(asCore.listNamespacedSecret({ namespace: 'team-a' })).rejects.toThrow(/403|forbidden/i);
      await expect(asCore.listSecretForAllNamespaces()).rejects.toThrow(/403|forbidden/i);
      await proveSecretsReadOnly(asCore, 'team-b', 'chat-secret-key');
    } finally {
      await op.proc.stop();
    }
  });

  it('fails to converge when the Role loses create on secrets or delete on ingresses', async () => {
    const chart = await install('broken', 'team-c', NAMESPACED);
    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({ name: 'broken-webui-operator', namespace: 'team-c' });
    const rules: V1PolicyRule[] = (role.rules ?? []).map((r) =>
      r.resources?.includes('secrets')
        ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') }
        : r.resources?.includes('ingresses')
          ? { ...r, verbs: r.verbs.filter((v) => v !== 'delete') }
          : r,
    );
    expect(rules).not.toEqual(role.rules);
    await rbac.replaceNamespacedRole({
      name: 'broken-webui-operator',
      namespace: 'team-c',
      body: { ...role, rules },
    });

    const op = await runOperator('broken', 'team-c', chart);
    try {
      await createWebUI('team-c', 'chat');
      const w = await waitFor('a Degraded status', op, async () => {
        const cur = await readWebUI('team-c', 'chat');
        const degraded = cur.status?.conditions?.find((c) => c.type === 'Degraded');
        return degraded?.status === 'True' ? degraded : undefined;
      });
      expect(w.message).toMatch(/Secret chat-secret-key/);
      expect(w.message).toMatch(/forbidden/i);
      expect(await missingChildren('team-c', 'chat')).toContain('Secret chat-secret-key');
      expect(op.log()).toMatch(/forbidden/i);
      expect(await eventReasons('team-c', 'chat')).toContain('ApplyFailed');

      // Without delete on ingresses, turning spec.ingress off leaves the Ingress and says why.
      await waitFor('the Ingress', op, async () =>
        (await ingressExists('team-c', 'chat')) ? true : undefined,
      );
      await turnIngressOff('team-c', 'chat');
      const d = await waitFor('a Degraded delete failure', op, async () => {
        const cur = await readWebUI('team-c', 'chat');
        const degraded = cur.status?.conditions?.find((c) => c.type === 'Degraded');
        return cur.status?.observedGeneration === cur.metadata.generation &&
          /delete Ingress chat/.test(degraded?.message ?? '')
          ? degraded
          : undefined;
      });
      expect(d.status).toBe('True');
      expect(d.message).toMatch(/forbidden/i);
      expect(await ingressExists('team-c', 'chat')).toBe(true);
    } finally {
      await op.proc.stop();
    }
  });
});
