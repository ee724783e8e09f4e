// The chart against the real thing: helm lint, helm template validated by the real API server
// (server-side dry-run), and helm install / upgrade / uninstall into a real control plane.
import { readdirSync, readFileSync } from 'node:fs';
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
    const r = await h.helm(['template', 'x', CHART_DIR, '--set', 'watchNamespaces={a}']);
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
    const objs = parseManifests(
      await h.helmOk([
        'template',
        'x',
        CHART_DIR,
        '-n',
        'ops',
        '--set',
        'scope=namespace',
        '--set',
        'watchNamespaces={a,b}',
      ]),
    );
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

  it('cluster mode watches every namespace with a ClusterRole', async () => {
    const objs = parseManifests(await h.helmOk(['template', 'x', CHART_DIR, '-n', 'team-a']));
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
  const ns = 'webui-system';

  beforeAll(async () => {
    cp = await startControlPlane();
    h = helmRunner(cp.kubeconfigPath);
  });
  afterAll(async () => {
    h?.cleanup();
    await cp?.stop();
  });

  const crdApi = () => cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  const readWebui = async () =>
    (await cp.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'webui.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'webuis',
      name: 'chat',
    })) as K8sObject & { spec: { ollama: { baseUrl: string; timeoutSeconds?: number } } };
  const readCrd = async () => {
    try {
      return await crdApi().readCustomResourceDefinition({ name: CRD_NAME });
    } catch {
      return undefined;
    }
  };

  it('helm uninstall deletes the CRD when crds.keep is false', async () => {
    await h.helmOk(['install', 'wo', CHART_DIR, '-n', ns, '--create-namespace', '--set', 'crds.keep=false']);
    const crd = await readCrd();
    expect(crd).toBeDefined();
    expect(crd?.metadata?.annotations?.['helm.sh/resource-policy']).toBeUndefined();
    await h.helmOk(['uninstall', 'wo', '-n', ns]);
    const deadline = Date.now() + 30_000;
    while ((await readCrd()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await readCrd()).toBeUndefined();
  });

  it('helm install creates the CRD, the operator Deployment, its RBAC and Services, and the WebUI', async () => {
    const notes = await h.helmOk([
      'install',
      'wo',
      CHART_DIR,
      '-n',
      ns,
      '-f',
      join(CHART_DIR, 'ci/with-webui-values.yaml'),
      '--set',
      'webui.spec.service.port=8081',
    ]);
    // NOTES.txt: how to check the operator, run the helm test, and reach this WebUI.
    expect(notes).toContain(`kubectl -n ${ns} rollout status deployment/wo-webui-operator`);
    expect(notes).toContain(`helm test wo -n ${ns}`);
    expect(notes).toContain(`kubectl -n ${ns} get webui chat -w`);
    expect(notes).toContain(`kubectl -n ${ns} port-forward service/chat-frontend 8080:8081`);
    expect(notes).toContain('"localhost" there is the pod itself');
    const crd = await readCrd();
    expect(crd?.metadata?.annotations?.['helm.sh/resource-policy']).toBe('keep');

    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const dep = await apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns });
    expect(dep.spec?.template.spec?.serviceAccountName).toBe('wo-webui-operator');
    await core.readNamespacedServiceAccount({ name: 'wo-webui-operator', namespace: ns });
    await core.readNamespacedConfigMap({ name: 'wo-webui-operator-config', namespace: ns });
    const svc = await core.readNamespacedService({ name: 'wo-webui-operator', namespace: ns });
    expect(svc.spec?.ports?.map((p) => p.port)).toEqual([8080]);
    const role = await rbac.readClusterRole({ name: 'wo-webui-operator' });
    expect(role.rules?.some((r) => r.resources?.includes('webuis'))).toBe(true);
    const binding = await rbac.readClusterRoleBinding({ name: 'wo-webui-operator' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'wo-webui-operator', namespace: ns }]);
    await rbac.readNamespacedRole({ name: 'wo-webui-operator-leader-election', namespace: ns });
    await rbac.readNamespacedRoleBinding({ name: 'wo-webui-operator-leader-election', namespace: ns });

    // The CRD did not exist before this release, so the WebUI came from the post-install hook.
    const webui = await readWebui();
    expect(webui.spec.ollama.baseUrl).toBe('http://ollama.ollama.svc.cluster.local:11434');
    expect(webui.metadata.annotations?.['meta.helm.sh/release-name']).toBe('wo');
    const manifest = parseManifests(await h.helmOk(['get', 'manifest', 'wo', '-n', ns]));
    expect(manifest.some((o) => o.kind === 'WebUI')).toBe(false);
  });

  it('helm upgrade adopts the hook-created WebUI, and the next upgrade applies webui.spec', async () => {
    const upgrade = [
      'upgrade',
      'wo',
      CHART_DIR,
      '-n',
      ns,
      '-f',
      join(CHART_DIR, 'ci/with-webui-values.yaml'),
      '--set',
      'webui.spec.ollama.timeoutSeconds=900',
    ];
    // Revision 2 adopts the WebUI as it is and says that the next upgrade applies the spec.
    const notes = await h.helmOk(upgrade);
    expect(notes).toContain('this upgrade adopted the WebUI chat');
    const manifest = parseManifests(await h.helmOk(['get', 'manifest', 'wo', '-n', ns]));
    expect(manifest.some((o) => o.kind === 'WebUI' && o.metadata.name === 'chat')).toBe(true);
    expect((await readWebui()).spec.ollama.timeoutSeconds).toBe(600);

    // The same upgrade again applies webui.spec and drops the adoption marker.
    expect(await h.helmOk(upgrade)).not.toContain('adopted');
    const webui = await readWebui();
    expect(webui.spec.ollama.timeoutSeconds).toBe(900);
    expect(webui.metadata.annotations?.['webui.dev/helm-hook-created']).toBeUndefined();

    await h.helmOk([...upgrade.slice(0, -2), '--set', 'webui.spec.ollama.timeoutSeconds=30']);
    expect((await readWebui()).spec.ollama.timeoutSeconds).toBe(30);

    // A typo in webui.spec is refused by the chart's schema (the CRD's, embedded), not silently pruned.
    const typo = await h.helm([...upgrade.slice(0, -2), '--set', 'webui.spec.olama.baseUrl=http://x:11434']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/olama/);
  });

  it('helm uninstall removes the operator and the WebUI but keeps the CRD (crds.keep)', async () => {
    await h.helmOk(['uninstall', 'wo', '-n', ns]);
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    await expect(
      apps.readNamespacedDeployment({ name: 'wo-webui-operator', namespace: ns }),
    ).rejects.toThrow();
    await expect(readWebui()).rejects.toThrow();
    expect(await readCrd()).toBeDefined();

    // Installing the same release again adopts the kept CRD.
    await h.helmOk(['install', 'wo', CHART_DIR, '-n', ns]);
    await h.helmOk(['uninstall', 'wo', '-n', ns]);
    expect(await readCrd()).toBeDefined();
  });

  describe('helm template output, validated by a server-side dry-run', () => {
    beforeAll(async () => {
      // The WebUI in with-webui needs its CRD (normally still there, kept by the uninstall above).
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

    for (const values of ciValuesFiles) {
      it(`ci/${values.name}-values.yaml renders objects the API server accepts`, async () => {
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
        const objs = parseManifests(rendered);
        expect(objs.length).toBeGreaterThan(5);
        const r = await h.kubectl(DRY_RUN_APPLY(namespace), rendered);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        // Every object was accepted, one line each.
        expect(r.stdout.trim().split('\n')).toHaveLength(objs.length);
        if (values.name === 'with-webui')
          expect(r.stdout).toContain('webui.webui.dev/chat serverside-applied (server dry run)');
      });
    }

    it("the API server applies the CRD's CEL rules to the rendered WebUI", async () => {
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
      const r = await h.kubectl(DRY_RUN_APPLY('dry-cel'), rendered);
      expect(r.stdout + r.stderr, 'kubectl output').toContain('must be an http(s) URL');
      expect(r.code).not.toBe(0);
    });

    it('the API server refuses a WebUI spec the CRD forbids, so the dry-run check can fail', async () => {
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
      const r = await h.kubectl(DRY_RUN_APPLY('dry-invalid'), rendered);
      expect(r.stdout + r.stderr, 'kubectl output').toMatch(/spec\.ollama\.timeoutSeconds: expected numeric/);
      expect(r.code).not.toBe(0);
    });
  });
});
