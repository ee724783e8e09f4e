// Proves the test control plane is a real Kubernetes API server: CRDs,
// status subresources, watches, RBAC with ServiceAccount tokens, and
// kube-controller-manager's garbage collector and deployment controller.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  VersionApi,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT } from './binaries.ts';
import { applyCrdFile, type ControlPlane, startControlPlane } from './control-plane.ts';
import { sleep } from './probe.ts';

const GROUP = 'harness.test.webui.dev';
const VERSION = 'v1';
const PLURAL = 'gadgets';
const NS = 'default';

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: PLURAL, singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'integer' },
                  color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
                },
                'x-kubernetes-validations': [
                  { rule: '!has(self.size) || self.size < 100', message: 'size must be below 100' },
                ],
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

interface Gadget extends KubernetesObject {
  spec?: { size?: number };
  status?: { phase?: string };
}

/** Polls until fn returns a value (not undefined) or the timeout passes. */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

describe('test control plane (real kube-apiserver, etcd, kube-controller-manager)', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  let crs: CustomObjectsApi;
  let tmp: string;

  beforeAll(async () => {
    cp = await startControlPlane({ controllerManager: true, auditLog: true });
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
    crs = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    tmp = mkdtempSync(join(tmpdir(), 'harness-test-'));
  });

  afterAll(async () => {
    await cp?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('reports the Kubernetes version the binaries were built from', async () => {
    const info = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
    const binary = spawnSync(cp.binaries.apiServer, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(binary).toBe(`Kubernetes ${info.gitVersion}`);
    expect(info.gitVersion).toMatch(/^v1\.\d+\.\d+$/); // not v0.0.0-master: ldflags were applied
    if (!process.env.KUBEBUILDER_ASSETS) {
      const goMod = readFileSync(join(REPO_ROOT, 'test/envtest/go.mod'), 'utf8');
      const pinned = /^\s*k8s\.io\/kubernetes (v\S+)/m.exec(goMod)?.[1];
      expect(info.gitVersion).toBe(pinned);
      expect(`${info.major}.${info.minor}`).toBe(pinned?.replace(/^v(\d+)\.(\d+)\..*$/, '$1.$2'));
    }
  });

  it('applies a CRD and serves it, with its status subresource', async () => {
    const path = join(tmp, 'crd.yaml');
    writeFileSync(path, stringify(crd));
    await applyCrdFile(cp, path);
    // Applying the same file again updates instead of failing on AlreadyExists.
    await applyCrdFile(cp, path);
    const resources = await crs.getAPIResources({ group: GROUP, version: VERSION });
    expect(resources.resources.map((r) => r.name).sort()).toEqual([PLURAL, `${PLURAL}/status`]);
  });

  it('keeps the whole schema of an applied CRD: defaults, enums and CEL rules are enforced', async () => {
    const create = (name: string, spec: object) =>
      crs.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: PLURAL,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Gadget', metadata: { name }, spec },
      });
    const defaulted = (await create('defaults', { size: 1 })) as { spec: { color?: string } };
    expect(defaulted.spec.color).toBe('red');
    const cel = await create('too-big', { size: 500 }).catch((e: unknown) => e);
    expect(statusOf(cel)).toBe(422);
    expect(String((cel as ApiException<string>).body)).toContain('size must be below 100');
    const badEnum = await create('green', { color: 'green' }).catch((e: unknown) => e);
    expect(statusOf(badEnum)).toBe(422);
  });

  it('creates, watches and status-patches a custom resource through /status', async () => {
    const events: { type: string; obj: Gadget }[] = [];
    let watchEnded: unknown;
    const watch = new Watch(cp.kubeConfig);
    const abort = await watch.watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
      {},
      (type, obj: Gadget) => events.push({ type, obj }),
      (err: unknown) => {
        watchEnded = err ?? 'watch ended';
      },
    );
    const watched = (type: string) => async () => {
      if (watchEnded) throw new Error(`watch failed: ${String(watchEnded)}`);
      return events.find((e) => e.type === type && e.obj.metadata?.name === 'g1');
    };
    try {
      const created = (await crs.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: PLURAL,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'Gadget',
          metadata: { name: 'g1' },
          spec: { size: 1 },
        },
      })) as Gadget;
      expect(created.metadata?.uid).toBeTruthy();

      await eventually('ADDED watch event', watched('ADDED'));

      // Through /status only status changes: the spec change in the same patch is dropped.
      const patched = (await crs.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: PLURAL,
          name: 'g1',
          body: { spec: { size: 99 }, status: { phase: 'Ready' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as Gadget;
      expect(patched.status?.phase).toBe('Ready');
      expect(patched.spec?.size).toBe(1);

      const modified = await eventually('MODIFIED watch event', watched('MODIFIED'));
      expect(modified.obj.status?.phase).toBe('Ready');
      expect(modified.obj.spec?.size).toBe(1);

      // And the main resource ignores status.
      const specPatched = (await crs.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: PLURAL,
          name: 'g1',
          body: { spec: { size: 2 }, status: { phase: 'Broken' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as Gadget;
      expect(specPatched.spec?.size).toBe(2);
      expect(specPatched.status?.phase).toBe('Ready');
    } finally {
      abort.abort();
    }
  });

  it('enforces RBAC for ServiceAccount tokens (TokenRequest): 403 without a grant, 200 with one', async () => {
    const namespace = 'rbac-check';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'nobody' } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token;
    expect(token).toBeTruthy();
    const asNobody = cp.kubeConfigForToken(token!).makeApiClient(CoreV1Api);

    const denied = await asNobody.listNamespacedConfigMap({ namespace }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(statusOf(denied)).toBe(403);
    // Authenticated as the ServiceAccount (a bad token would be 401), just not allowed.
    expect(String((denied as ApiException<string>).body)).toContain(
      `system:serviceaccount:${namespace}:nobody`,
    );

    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'nobody-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace }],
      },
    });
    const allowed = await eventually('the RoleBinding to take effect', async () =>
      asNobody.listNamespacedConfigMap({ namespace }).catch((err: unknown) => {
        if (statusOf(err) === 403) return undefined;
        throw err;
      }),
    );
    expect(Array.isArray(allowed.items)).toBe(true);
    // The grant is only for this namespace.
    const elsewhere = await asNobody.listNamespacedConfigMap({ namespace: NS }).catch((err: unknown) => err);
    expect(statusOf(elsewhere)).toBe(403);
  });

  it('garbage-collects an owned ConfigMap when its owner is deleted (kube-controller-manager)', async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'gc-owner' }, data: { role: 'owner' } },
    });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: {
          name: 'gc-owned',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', uid: owner.metadata!.uid! },
          ],
        },
        data: { role: 'owned' },
      },
    });
    // Unrelated objects stay: the collector must only follow owner references.
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'gc-bystander' } } });

    await core.deleteNamespacedConfigMap({ name: 'gc-owner', namespace: NS });
    await eventually('the owned ConfigMap to be garbage-collected', async () =>
      core.readNamespacedConfigMap({ name: 'gc-owned', namespace: NS }).then(
        () => undefined,
        (err: unknown) => {
          if (statusOf(err) === 404) return true;
          throw err;
        },
      ),
    );
    const bystander = await core.readNamespacedConfigMap({ name: 'gc-bystander', namespace: NS });
    expect(bystander.metadata?.name).toBe('gc-bystander');
  });

  it('gives a Deployment a ReplicaSet (kube-controller-manager)', async () => {
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const labels = { app: 'harness-deploy' };
    const deployment = await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'harness-deploy' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
          },
        },
      },
    });
    const rs = await eventually('a ReplicaSet owned by the Deployment', async () => {
      const list = await apps.listNamespacedReplicaSet({
        namespace: NS,
        labelSelector: 'app=harness-deploy',
      });
      return list.items.find((r) =>
        r.metadata?.ownerReferences?.some(
          (o) => o.kind === 'Deployment' && o.uid === deployment.metadata?.uid,
        ),
      );
    });
    expect(rs.spec?.replicas).toBe(1);
    expect(rs.spec?.template?.spec?.containers[0]?.image).toBe('registry.invalid/app:1');
  });

  it('records writes in the audit log', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'audited' } } });
    const event = await eventually('the audit event of the create', async () =>
      (await cp.readAuditEvents()).find(
        (e) =>
          e.verb === 'create' && e.objectRef?.resource === 'configmaps' && e.objectRef.name === 'audited',
      ),
    );
    expect(event.user.username).toBe('admin');
    expect(event.objectRef?.namespace).toBe(NS);
    expect(event.responseStatus?.code).toBe(201);
    // Reads are not audited.
    await core.readNamespacedConfigMap({ name: 'audited', namespace: NS });
    const all = await cp.readAuditEvents();
    expect(all.some((e) => e.verb === 'get' || e.verb === 'list' || e.verb === 'watch')).toBe(false);
  });

  it('keeps the data in etcd across a kube-apiserver restart on the same address', async () => {
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'survivor' }, data: { k: 'v' } },
    });
    await cp.stopApiServer();
    const down = await core
      .readNamespacedConfigMap({ name: 'survivor', namespace: NS })
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(Error);
    expect(statusOf(down)).toBeUndefined(); // a connection error, not an HTTP answer

    await cp.startApiServer();
    const back = await core.readNamespacedConfigMap({ name: 'survivor', namespace: NS });
    expect(back.data).toEqual({ k: 'v' });
  });
});
