// The chart against the real thing: helm lint, helm template validated by the real API server
// (server-side dry-run), helm install / upgrade / uninstall and the GitOps path (`helm template |
// kubectl apply --server-side`) into a real control plane, with the real operator process applying the
// chart's WebUI seed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE as OPERATOR_USAGE } from '../../operator/src/config.ts';
import { SEED_DATA_KEY, seedWebUI } from '../../operator/src/seed/seed.ts';
import { CRD_SOURCE } from '../../scripts/chart-generate.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import {
  CHART_DIR,
  ciValuesFiles,
  type HelmRunner,
  helmRunner,
  type K8sObject,
  parseManifests,
} from './helm.ts';
import { type ChartOperator, chartNames, runChartOperator, waitFor } from './operator-process.ts';

const CRD_NAME = 'webuis.webui.dev';
// Server-side apply, so the API server validates each object exactly as it would store it.
const DRY_RUN_APPLY = (namespace: string) => [
  'apply',
  '--server-side',
  '--force-conflicts',
  '--field-manager=chart-test',
  '--dry-run=server',
  '-n',
  namespace,
  '-f',
  '-',
];

it('ships a values file for every CI case tested here', () => {
  const onDisk = readdirSync(join(CHART_DIR, 'ci')).sort();
  expect(onDisk).toEqual(ciValuesFiles.map((f) => `${f.name}-values.yaml`).sort());
});

describe('helm lint and values schema (no cluster)', () => {
  let h: HelmRunner;
  beforeAll(() => {
    h = helmRunner();
  });
  afterAll(() => h.cleanup());
  /** The objects `helm template x` renders with these arguments. */
  const render = async (...args: string[]) =>
    parseManifests(await h.helmOk(['template', 'x', CHART_DIR, ...args]));

  for (const values of ciValuesFiles) {
    it(`helm lint --strict passes with ci/${values.name}-values.yaml`, async () => {
      const r = await h.helm(['lint', '--strict', CHART_DIR, '-f', values.path]);
      expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(r.code).toBe(0);
    });
  }

  it('rejects a misspelt value', async () => {
    const r = await h.helm(['template', 'x', CHART_DIR, '--set', 'crds.instal=true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/crds.*additional properties 'instal' not allowed/);
  });

  it('rejects a value of the wrong type', async () => {
    const r = await h.helm(['template', 'x', CHART_DIR, '--set', 'replicaCount=two']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/replicaCount.*want integer/);
  });

  it('rejects an unknown scope', async () => {
    const r = await h.helm(['template', 'x', CHART_DIR, '--set', 'scope=global']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('/scope');
  });

  it('refuses watchNamespaces in cluster scope, where it would be silently ignored', async () => {
    const r = await h.helm([
      'template',
      'x',
      CHART_DIR,
      '--set',
      'scope=cluster',
      '--set',
      'watchNamespaces={a}',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ERROR: watchNamespaces only applies with scope: namespace');
  });

  it('refuses several replicas without leader election, which would reconcile twice', async () => {
    const r = await h.helm([
      'template',
      'x',
      CHART_DIR,
      '--set',
      'replicaCount=2',
      '--set',
      'leaderElection.enabled=false',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ERROR: replicaCount above 1 needs leaderElection.enabled=true');
  });

  it('ha: two replicas electing a leader on a Lease they may write, with a PodDisruptionBudget', async () => {
    const objs = parseManifests(
      await h.helmOk(['template', 'x', CHART_DIR, '-n', 'ops', '-f', join(CHART_DIR, 'ci/ha-values.yaml')]),
    );
    const dep = objs.find((o) => o.kind === 'Deployment') as K8sObject & { spec: { replicas: number } };
    expect(dep.spec.replicas).toBe(2);
    const config = objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(config.data).toMatchObject({
      LEADER_ELECTION: 'true',
      LEADER_ELECTION_NAMESPACE: 'ops',
      LEADER_ELECTION_ID: 'x-webui-operator',
    });
    const role = objs.find(
      (o) => o.kind === 'Role' && o.metadata.name === 'x-webui-operator-leader-election',
    ) as (K8sObject & { rules: { resources: string[]; verbs: string[] }[] }) | undefined;
    expect(role?.metadata.namespace).toBe('ops');
    expect(role?.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    expect(objs.filter((o) => o.kind === 'PodDisruptionBudget')).toHaveLength(1);
  });

  it('the metrics Service selects the operator pods and reaches their http port', async () => {
    const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR]));
    const svc = objs.find((o) => o.kind === 'Service') as K8sObject & {
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
    };
    const dep = objs.find((o) => o.kind === 'Deployment') as K8sObject & {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { ports: { name: string; containerPort: number }[] }[] };
        };
      };
    };
    expect(dep.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    const ports = dep.spec.template.spec.containers[0]?.ports ?? [];
    expect(ports.map((p) => p.name)).toContain(svc.spec.ports[0]?.targetPort);
    expect(ports[0]?.containerPort).toBe(svc.spec.ports[0]?.port);
  });

  it('namespaced mode with watchNamespaces gets a Role in each and watches exactly those', async () => {
    const objs = await render('-n', 'ops', '--set', 'scope=namespace', '--set', 'watchNamespaces={a,b}');
    const roles = objs.filter((o) => o.kind === 'Role' && !o.metadata.name.endsWith('leader-election'));
    expect(roles.map((o) => o.metadata.namespace).sort()).toEqual(['a', 'b']);
    const config = objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(config.data.WATCH_NAMESPACES).toBe('a,b');
    expect(config.data.LEADER_ELECTION_NAMESPACE).toBe('ops');
  });

  it('rolls the operator when its configuration changes, and only then', async () => {
    const checksum = async (extra: string[]) => {
      const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR, ...extra]));
      const dep = objs.find((o) => o.kind === 'Deployment') as K8sObject & {
        spec: { template: { metadata: { annotations: Record<string, string> } } };
      };
      return dep.spec.template.metadata.annotations['checksum/config'];
    };
    const base = await checksum([]);
    expect(base).toMatch(/^[a-f0-9]{64}$/);
    expect(await checksum(['--set', 'replicaCount=1'])).toBe(base);
    expect(await checksum(['--set', 'logLevel=debug'])).not.toBe(base);
    expect(await checksum(['--set', 'defaultWebuiImage.tag=9.9.9'])).not.toBe(base);
    // The seed's content is not the operator's configuration: the running operator applies it.
    const seeded = await checksum(['--set', 'webui.create=true']);
    expect(seeded, 'the seed is named in the settings').not.toBe(base);
    expect(
      await checksum(['--set', 'webui.create=true', '--set', 'webui.spec.ollama.timeoutSeconds=900']),
    ).toBe(seeded);
    expect(await checksum(['--set', 'webui.create=true', '--set', 'webui.annotations.a=b'])).toBe(seeded);
  });

  it('renders the WebUI into a seed ConfigMap: no WebUI object, no hook but the helm test', async () => {
    const objs = await render('-n', 'ops', '-f', join(CHART_DIR, 'ci/with-webui-values.yaml'));
    expect(objs.filter((o) => o.kind === 'WebUI')).toEqual([]);
    const hooks = objs.filter((o) => o.metadata.annotations?.['helm.sh/hook'] !== undefined);
    expect(hooks.map((o) => `${o.kind}/${o.metadata.annotations?.['helm.sh/hook']}`)).toEqual(['Pod/test']);

    const seed = objs.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.['webui.dev/seed'] === 'true',
    ) as (K8sObject & { data: Record<string, string> }) | undefined;
    expect(seed?.metadata).toMatchObject({ name: 'x-webui-operator-webui-chat', namespace: 'ops' });
    expect(Object.keys(seed?.data ?? {})).toEqual([SEED_DATA_KEY]);
    const webui = JSON.parse(seed?.data[SEED_DATA_KEY] ?? '') as K8sObject & { spec: unknown };
    expect(webui).toEqual({
      apiVersion: 'webui.dev/v1alpha1',
      kind: 'WebUI',
      metadata: {
        name: 'chat',
        namespace: 'ops',
        labels: expect.objectContaining({
          'app.kubernetes.io/instance': 'x',
          'app.kubernetes.io/part-of': 'webui-operator',
          'app.kubernetes.io/component': 'webui',
          'app.kubernetes.io/managed-by': 'webui-operator',
        }),
      },
      spec: {
        ollama: { baseUrl: 'http://ollama.ollama.svc.cluster.local:11434', timeoutSeconds: 600 },
        auth: { enableSignup: true, defaultUserRole: 'pending' },
      },
    });
    // What the operator parses is what the chart renders.
    const parsed = seedWebUI({ metadata: { ...seed?.metadata, uid: 'u' }, data: seed?.data });
    expect(parsed.ok).toBe(true);

    const config = objs.find((o) => o.metadata.name === 'x-webui-operator-config') as K8sObject & {
      data: Record<string, string>;
    };
    expect(config.data.WEBUI_SEED_CONFIGMAP).toBe('x-webui-operator-webui-chat');
    const role = objs.find((o) => o.kind === 'Role' && o.metadata.name === 'x-webui-operator-webui-seed') as
      | (K8sObject & { rules: unknown[] })
      | undefined;
    expect(role?.metadata.namespace).toBe('ops');
    expect(role?.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['x-webui-operator-webui-chat'],
        verbs: ['list', 'watch'],
      },
      {
        apiGroups: ['webui.dev'],
        resources: ['webuis'],
        resourceNames: ['chat'],
        verbs: ['get', 'create', 'patch'],
      },
    ]);
    const binding = objs.find(
      (o) => o.kind === 'RoleBinding' && o.metadata.name === 'x-webui-operator-webui-seed',
    );
    expect(binding).toMatchObject({
      roleRef: { kind: 'Role', name: 'x-webui-operator-webui-seed' },
      subjects: [{ kind: 'ServiceAccount', name: 'x-webui-operator', namespace: 'ops' }],
    });

    // Without webui.create: no seed, no seed Role, no seed setting.
    const plain = await render('-n', 'ops');
    expect(
      plain.filter((o) => o.metadata.name.includes('webui-seed') || o.metadata.name.endsWith('-webui-webui')),
    ).toEqual([]);
    const plainConfig = plain.find((o) => o.kind === 'ConfigMap') as K8sObject & {
      data: Record<string, string>;
    };
    expect(plainConfig.data).not.toHaveProperty('WEBUI_SEED_CONFIGMAP');
  });

  it('no template looks up the cluster or depends on the release revision or install/upgrade', () => {
    const templates = join(CHART_DIR, 'templates');
    const files = readdirSync(templates, { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.(yaml|tpl|txt)$/.test(f),
    );
    expect(files).toContain('NOTES.txt');
    for (const f of files) {
      // Template actions only (comments may name what is not used).
      const actions =
        readFileSync(join(templates, f), 'utf8')
          .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
          .match(/\{\{[\s\S]*?\}\}/g) ?? [];
      const bad = actions.filter((a) => /\blookup\b|\.Release\.(Revision|IsUpgrade|IsInstall)\b/.test(a));
      expect(bad, f).toEqual([]);
    }
  });

  it('refuses webui.create when the operator does not watch the release namespace', async () => {
    const args = [
      'template',
      'x',
      CHART_DIR,
      '-n',
      'ops',
      '--set',
      'webui.create=true',
      '--set',
      'scope=namespace',
    ];
    const r = await h.helm([...args, '--set', 'watchNamespaces={a,b}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'ERROR: webui.create makes the WebUI in the release namespace ops, which the operator does not watch (watchNamespaces: a,b); add ops to watchNamespaces',
    );
    await h.helmOk([...args, '--set', 'watchNamespaces={a,ops}']);
    await h.helmOk(args);
  });

  it('namespaced mode grants a Role in the release namespace and no cluster-wide permission', async () => {
    const objs = parseManifests(
      await h.helmOk([
        'template',
        'x',
        CHART_DIR,
        '-n',
        'team-a',
        '-f',
        join(CHART_DIR, 'ci/namespaced-values.yaml'),
      ]),
    );
    expect(objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const roles = objs
      .filter((o) => o.kind === 'Role')
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    expect(roles.sort()).toEqual(['team-a/x-webui-operator', 'team-a/x-webui-operator-leader-election']);
    const config = objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(config.data.WATCH_NAMESPACES).toBe('team-a');
  });

  it('configures the operator only with settings it reads, and sets or documents every one it has', async () => {
    const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR]));
    const config = objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    const envNames = new Set([...OPERATOR_USAGE.matchAll(/\b([A-Z][A-Z0-9_]{3,})\b/g)].map((m) => m[1]));
    for (const key of Object.keys(config.data)) expect(envNames, `operator reads ${key}`).toContain(key);
    // And the other way round: every operator setting is set by the chart or documented in values.yaml
    // (for extraEnv), so a new operator flag cannot go unnoticed here.
    const valuesYaml = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
    // The env column of each flag line of `webui-operator --help`.
    const settings = OPERATOR_USAGE.split('\n')
      .filter((l) => /^\s+--/.test(l))
      .map((l) => l.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/)?.[0] ?? `(no env name in: ${l.trim()})`);
    expect(settings).toContain('RESYNC_SECONDS');
    for (const name of settings)
      expect(name in config.data || valuesYaml.includes(name), `chart sets or documents ${name}`).toBe(true);
  });

  it('namespace scope is the default: a Role in the release namespace, no cluster-wide permission', async () => {
    const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR, '-n', 'team-a']));
    expect(objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const config = objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(config.data.WATCH_NAMESPACES).toBe('team-a');
  });

  it('grants no write on Secrets but create, in either scope', async () => {
    for (const scope of ['namespace', 'cluster']) {
      const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR, '--set', `scope=${scope}`]));
      const roles = objs.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole') as (K8sObject & {
        rules: { resources: string[]; verbs: string[] }[];
      })[];
      const secretVerbs = roles.flatMap((r) =>
        r.rules.filter((x) => x.resources.includes('secrets')).flatMap((x) => x.verbs),
      );
      expect(new Set(secretVerbs), scope).toEqual(new Set(['get', 'list', 'watch', 'create']));
    }
  });

  it('cluster mode watches every namespace with a ClusterRole', async () => {
    const objs = parseManifests(
      await h.helmOk(['template', 'x', CHART_DIR, '-n', 'team-a', '--set', 'scope=cluster']),
    );
    expect(objs.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual([
      'x-webui-operator',
    ]);
    const config = objs.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(config.data.WATCH_NAMESPACES).toBe('');
  });

  it('runs the operator non-root on a read-only root filesystem with every capability dropped', async () => {
    const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR]));
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as {
      spec: {
        template: {
          spec: {
            securityContext: Record<string, unknown>;
            automountServiceAccountToken: boolean;
            containers: {
              securityContext: Record<string, unknown>;
              resources: unknown;
              livenessProbe: { httpGet: { path: string } };
              readinessProbe: { httpGet: { path: string } };
            }[];
          };
        };
      };
    };
    const pod = dep.spec.template.spec;
    const c = pod.containers[0]!;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
  });
});

describe('against a real API server', () => {
  let cp: ControlPlane;
  let h: HelmRunner;
  let work: string;
  const ns = 'webui-system';

  beforeAll(async () => {
    // The garbage collector deletes the WebUI with its seed; the audit log shows who wrote what.
    cp = await startControlPlane({ controllerManager: true, auditLog: true });
    h = helmRunner(cp.kubeconfigPath);
    work = mkdtempSync(join(tmpdir(), 'chart-int-'));
  });
  afterAll(async () => {
    h?.cleanup();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const crdApi = () => cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  const readWebui = async (namespace = ns, name = 'chat') =>
    (await cp.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'webui.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'webuis',
      name,
    })) as K8sObject & {
      metadata: { generation: number; ownerReferences?: { kind: string; name: string }[] };
      spec: { ollama: { baseUrl: string; timeoutSeconds?: number } };
    };
  const readCrd = async () => {
    try {
      return await crdApi().readCustomResourceDefinition({ name: CRD_NAME });
    } catch {
      return undefined;
    }
  };
  const gone = async (what: string, read: () => Promise<unknown>) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await read();
      } catch {
        return;
      }
      if (Date.now() > deadline) throw new Error(`${what} still exists after 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  /** Writes to WebUIs (not their status) by a ServiceAccount of the operator since `since`. */
  const seedWrites = async (since: number) =>
    (await cp.readAuditEvents()).filter(
      (e) =>
        e.user.username.startsWith('system:serviceaccount:') &&
        e.objectRef?.resource === 'webuis' &&
        !e.objectRef.subresource &&
        Date.parse(e.requestReceivedTimestamp) >= since,
    );

  it('helm uninstall deletes the CRD when crds.keep is false', async () => {
    await h.helmOk(['install', 'wo', CHART_DIR, '-n', ns, '--create-namespace', '--set', 'crds.keep=false']);
    const crd = await readCrd();
    expect(crd).toBeDefined();
    expect(crd?.metadata?.annotations?.['helm.sh/resource-policy']).toBeUndefined();
    await h.helmOk(['uninstall', 'wo', '-n', ns]);
    await gone('the CRD', () => crdApi().readCustomResourceDefinition({ name: CRD_NAME }));
  });

  it('GitOps: helm template | kubectl apply --server-side installs in one pass; the operator makes the WebUI; applying again changes nothing', async () => {
    const gitops = 'gitops';
    expect(await readCrd(), 'no CRD before the one pass').toBeUndefined();
    await h.kubectl(['create', 'namespace', gitops]);
    const rendered = await h.helmOk([
      'template',
      'argo',
      CHART_DIR,
      '-n',
      gitops,
      '--skip-tests',
      '-f',
      join(CHART_DIR, 'ci/with-webui-values.yaml'),
    ]);
    const objs = parseManifests(rendered);
    expect(objs.some((o) => o.kind === 'CustomResourceDefinition')).toBe(true);
    expect(objs.filter((o) => o.kind === 'WebUI' || o.metadata.annotations?.['helm.sh/hook'])).toEqual([]);
    const apply = ['apply', '--server-side', '--field-manager=gitops', '-n', gitops, '-f', '-'];
    const first = await h.kubectl(apply, rendered);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toHaveLength(objs.length);

    const op = await runChartOperator(cp, work, 'gitops', gitops, chartNames('argo'));
    try {
      const webui = await waitFor('the WebUI from the seed', op, () => readWebui(gitops));
      expect(webui.spec.ollama).toEqual({
        baseUrl: 'http://ollama.ollama.svc.cluster.local:11434',
        timeoutSeconds: 600,
      });
      expect(webui.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'ConfigMap',
          name: 'argo-webui-operator-webui-chat',
          controller: true,
        }),
      ]);

      // The same stream again: every object is applied, none changes (same resourceVersion), and the
      // operator writes nothing to the WebUI.
      const versions = async () => {
        const r = await h.kubectl(['get', '-n', gitops, '-f', '-', '-o', 'json'], rendered);
        expect(r.code, r.stderr).toBe(0);
        const list = JSON.parse(r.stdout) as { items: K8sObject[] };
        return Object.fromEntries(
          list.items.map((o) => [
            `${o.kind}/${o.metadata.name}`,
            (o.metadata as { resourceVersion?: string }).resourceVersion,
          ]),
        );
      };
      const before = await versions();
      expect(Object.keys(before)).toHaveLength(objs.length);
      const since = Date.now();
      const second = await h.kubectl(apply, rendered);
      expect(second.code, second.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await versions()).toEqual(before);
      expect(await seedWrites(since)).toEqual([]);
      expect((await readWebui(gitops)).metadata.generation).toBe(webui.metadata.generation);
    } finally {
      await op.proc.stop();
    }
    // Leave no CRD behind (it carries this stream's labels): the next test installs it with Helm.
    const removed = await h.kubectl(['delete', '-n', gitops, '-f', '-', '--wait=true'], rendered);
    expect(removed.code, removed.stderr).toBe(0);
    await gone('the CRD', () => crdApi().readCustomResourceDefinition({ name: CRD_NAME }));
  });

  let op: ChartOperator | undefined;
  const withWebui = [
    '-n',
    ns,
    '-f',
    join(CHART_DIR, 'ci/with-webui-values.yaml'),
    '--set',
    'webui.spec.service.port=8081',
  ];

  it('helm install in one go: the CRD, the operator with its RBAC and Services, the seed; the operator then makes the WebUI', async () => {
    expect(await readCrd(), 'no CRD before the install').toBeUndefined();
    const notes = await h.helmOk(['install', 'wo', CHART_DIR, '--create-namespace', ...withWebui]);
    // NOTES.txt: how to check the operator, run the helm test, and reach this WebUI.
    expect(notes).toContain(`kubectl -n ${ns} rollout status deployment/wo-webui-operator`);
    expect(notes).toContain(`helm test wo -n ${ns}`);
    expect(notes).toContain(
      'The operator creates the WebUI chat from the ConfigMap wo-webui-operator-webui-chat',
    );
    expect(notes).toContain(`kubectl -n ${ns} get webui chat -w`);
    expect(notes).toContain(`kubectl -n ${ns} describe configmap wo-webui-operator-webui-chat`);
    expect(notes).toContain(`kubectl -n ${ns} port-forward service/chat-frontend 8080:8081`);
    expect(notes).toContain('"localhost" there is the pod itself');
    expect(notes).toContain('deletes no WebUI resources other than chat, which this release made');
    const crd = await readCrd();
    expect(crd?.metadata?.annotations?.['helm.sh/resource-policy']).toBe('keep');

    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const dep = await apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns });
    expect(dep.spec?.template.spec?.serviceAccountName).toBe('wo-webui-operator');
    await core.readNamespacedServiceAccount({ name: 'wo-webui-operator', namespace: ns });
    await core.readNamespacedConfigMap({ name: 'wo-webui-operator-config', namespace: ns });
    await core.readNamespacedConfigMap({ name: 'wo-webui-operator-webui-chat', namespace: ns });
    const svc = await core.readNamespacedService({ name: 'wo-webui-operator', namespace: ns });
    expect(svc.spec?.ports?.map((p) => p.port)).toEqual([8081]);
    // namespace scope (the default): a Role where the operator works, nothing cluster-wide.
    await expect(rbac.readClusterRole({ name: 'wo-webui-operator' })).rejects.toThrow();
    const role = await rbac.readNamespacedRole({ name: 'wo-webui-operator', namespace: ns });
    expect(role.rules?.some((r) => r.resources?.includes('webuis'))).toBe(true);
    const binding = await rbac.readNamespacedRoleBinding({ name: 'wo-webui-operator', namespace: ns });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'wo-webui-operator', namespace: ns }]);
    await rbac.readNamespacedRole({ name: 'wo-webui-operator-leader-election', namespace: ns });
    await rbac.readNamespacedRoleBinding({ name: 'wo-webui-operator-leader-election', namespace: ns });
    await rbac.readNamespacedRole({ name: 'wo-webui-operator-webui-seed', namespace: ns });
    const manifest = parseManifests(await h.helmOk(['get', 'manifest', 'wo', '-n', ns]));
    expect(manifest.some((o) => o.kind === 'WebUI')).toBe(false);

    // The operator, started after the install as its pod would be, creates the WebUI.
    op = await runChartOperator(cp, work, 'wo', ns, chartNames('wo'));
    const webui = await waitFor('the WebUI from the seed', op, () => readWebui());
    expect(webui.spec.ollama).toEqual({
      baseUrl: 'http://ollama.ollama.svc.cluster.local:11434',
      timeoutSeconds: 600,
    });
    expect(webui.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ConfigMap', name: 'wo-webui-operator-webui-chat' }),
    ]);
  });

  it('helm upgrade of webui.spec updates the WebUI and does not roll the operator', async () => {
    if (!op) throw new Error('needs the install test');
    const running = op;
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns });
    await h.helmOk([
      'upgrade',
      'wo',
      CHART_DIR,
      ...withWebui,
      '--set',
      'webui.spec.ollama.timeoutSeconds=900',
    ]);
    const after = await apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns });
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(after.spec?.template).toEqual(before.spec?.template);
    await waitFor('the new timeout on the WebUI', running, async () =>
      (await readWebui()).spec.ollama.timeoutSeconds === 900 ? true : undefined,
    );

    // A typo in webui.spec is refused by the chart's schema (the CRD's, embedded), not silently pruned.
    const typo = await h.helm([
      'upgrade',
      'wo',
      CHART_DIR,
      ...withWebui,
      '--set',
      'webui.spec.olama.baseUrl=http://x:11434',
    ]);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/olama/);
  });

  it('helm upgrade of an operator setting rolls the operator and leaves the WebUI alone', async () => {
    if (!op) throw new Error('needs the install test');
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns });
    const webui = await readWebui();
    const since = Date.now();
    const upgrade = [
      ...withWebui,
      '--set',
      'webui.spec.ollama.timeoutSeconds=900',
      '--set',
      'logLevel=debug',
    ];
    await h.helmOk(['upgrade', 'wo', CHART_DIR, ...upgrade]);
    const after = await apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns });
    expect(after.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
    const checksum = (d: typeof after) => d.spec?.template.metadata?.annotations?.['checksum/config'];
    expect(checksum(after)).not.toBe(checksum(before));

    // The roll, done by hand (no kubelet): the new operator starts with the new settings.
    await op.proc.stop();
    op = await runChartOperator(cp, work, 'wo-rolled', ns, chartNames('wo'));
    const started = op;
    await waitFor('the new operator ready', started, async () => {
      const r = await fetch(`http://127.0.0.1:${started.httpPort}/readyz`);
      return r.ok ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await seedWrites(since), 'writes to the WebUI').toEqual([]);
    const now = await readWebui();
    expect(now.metadata.generation).toBe(webui.metadata.generation);
    expect(now.spec).toEqual(webui.spec);
  });

  it('helm upgrade renaming the WebUI deletes the old one with its seed; the operator makes the new one', async () => {
    if (!op) throw new Error('needs the install test');
    const renamed = [
      '--set',
      'webui.spec.ollama.timeoutSeconds=900',
      '--set',
      'logLevel=debug',
      '--set',
      'webui.name=chat2',
    ];
    await h.helmOk(['upgrade', 'wo', CHART_DIR, ...withWebui, ...renamed]);
    // The seed's name changed, so the operator's settings did: it rolls (by hand here).
    await op.proc.stop();
    op = await runChartOperator(cp, work, 'wo-renamed', ns, chartNames('wo'));
    const webui = await waitFor('the renamed WebUI', op, () => readWebui(ns, 'chat2'));
    expect(webui.spec.ollama.timeoutSeconds).toBe(900);
    await gone('the WebUI of the old name', () => readWebui(ns, 'chat'));
  });

  it('helm uninstall removes the operator and, with its seed, the WebUI, but keeps the CRD (crds.keep)', async () => {
    try {
      await h.helmOk(['uninstall', 'wo', '-n', ns]);
      const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
      await expect(
        apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns }),
      ).rejects.toThrow();
      // The garbage collector deletes the WebUI, owned by the seed Helm deleted.
      await gone('the WebUI', () => readWebui(ns, 'chat2'));
      expect(await readCrd()).toBeDefined();
    } finally {
      await op?.proc.stop();
    }

    // Installing the same release again adopts the kept CRD.
    await h.helmOk(['install', 'wo', CHART_DIR, '-n', ns]);
    await h.helmOk(['uninstall', 'wo', '-n', ns]);
    expect(await readCrd()).toBeDefined();
  });

  describe('helm template output, validated by a server-side dry-run', () => {
    beforeAll(async () => {
      // The seeds' WebUIs need their CRD (normally still there, kept by the uninstall above).
      // kubectl, not a typed client: client-node's typed CRD model drops `enum` and CEL rules.
      const applied = await h.kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_SOURCE]);
      expect(applied.code, applied.stderr).toBe(0);
      const established = await h.kubectl([
        'wait',
        '--for=condition=Established',
        `crd/${CRD_NAME}`,
        '--timeout=30s',
      ]);
      expect(established.code, established.stderr).toBe(0);
    });

    /** The rendered objects, followed by the WebUI each seed holds (what the operator will apply). */
    const withSeededWebuis = (rendered: string) =>
      [
        rendered,
        ...parseManifests(rendered)
          .filter((o) => o.metadata.labels?.['webui.dev/seed'] === 'true')
          .map((o) => `---\n${(o as K8sObject & { data: Record<string, string> }).data[SEED_DATA_KEY]}\n`),
      ].join('\n');

    for (const values of ciValuesFiles) {
      it(`ci/${values.name}-values.yaml renders objects, and a seeded WebUI, the API server accepts`, async () => {
        const namespace = `dry-${values.name}`;
        await h.kubectl(['create', 'namespace', namespace]);
        const rendered = await h.helmOk([
          'template',
          'dry',
          CHART_DIR,
          '-n',
          namespace,
          '-f',
          values.path,
          '--include-crds',
        ]);
        const objs = parseManifests(withSeededWebuis(rendered));
        expect(objs.length).toBeGreaterThan(5);
        const r = await h.kubectl(DRY_RUN_APPLY(namespace), withSeededWebuis(rendered));
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        // Every object was accepted, one line each.
        expect(r.stdout.trim().split('\n')).toHaveLength(objs.length);
        if (values.name === 'with-webui')
          expect(r.stdout).toContain('webui.webui.dev/chat serverside-applied (server dry run)');
      });
    }

    it("the API server applies the CRD's CEL rules to the seeded WebUI", async () => {
      await h.kubectl(['create', 'namespace', 'dry-cel']);
      const rendered = await h.helmOk([
        'template',
        'dry',
        CHART_DIR,
        '-n',
        'dry-cel',
        '--set',
        'webui.create=true',
        '--set',
        'webui.spec.ollama.baseUrl=ftp://nope',
      ]);
      const r = await h.kubectl(DRY_RUN_APPLY('dry-cel'), withSeededWebuis(rendered));
      expect(r.stdout + r.stderr, 'kubectl output').toContain('must be an http(s) URL');
      expect(r.code).not.toBe(0);
    });

    it('the API server refuses a seeded WebUI spec the CRD forbids, so the dry-run check can fail', async () => {
      await h.kubectl(['create', 'namespace', 'dry-invalid']);
      const rendered = await h.helmOk([
        'template',
        'dry',
        CHART_DIR,
        '-n',
        'dry-invalid',
        // The chart's own schema (which embeds the CRD's) refuses this first; skip it to show that
        // the server-side dry-run catches it too.
        '--skip-schema-validation',
        '--set',
        'webui.create=true',
        '--set-string',
        'webui.spec.ollama.timeoutSeconds=soon',
      ]);
      const r = await h.kubectl(DRY_RUN_APPLY('dry-invalid'), withSeededWebuis(rendered));
      expect(r.stdout + r.stderr, 'kubectl output').toMatch(/spec\.ollama\.timeoutSeconds: expected numeric/);
      expect(r.code).not.toBe(0);
    });
  });
});
