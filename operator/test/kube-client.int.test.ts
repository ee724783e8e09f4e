// The operator's API client against a real kube-apiserver: service-account
// (in-cluster) authentication with the cluster CA, token rotation, and a watch
// that streams real events and bookmarks.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../test/harness/control-plane.ts';
import { inClusterConnection } from '../src/kube/kubeconfig.ts';
import { CONTENT_TYPE, KubeClient } from '../src/kube/rest.ts';
import { kubeClientFor } from './support.ts';

describe('KubeClient on a real API server', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;

  beforeAll(async () => {
    cp = await startControlPlane();
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  async function serviceAccountToken(name: string): Promise<string> {
    await core
      .createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name } } })
      .catch(() => {});
    const t = await core.createNamespacedServiceAccountToken({
      name,
      namespace: 'default',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    return t.status?.token ?? '';
  }

  it('authenticates in-cluster style as the service account, verifying the API server with ca.crt', async () => {
    const saDir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(saDir, 'token'), await serviceAccountToken('op'));
    writeFileSync(join(saDir, 'ca.crt'), cp.caPem);
    writeFileSync(join(saDir, 'namespace'), 'default');
    const port = new URL(cp.server).port;
    const conn = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      saDir,
    );
    if (!conn) throw new Error('no in-cluster connection');
    const client = new KubeClient(conn, { timeoutMs: 10_000 });
    // The SA has no RBAC: the 403 names who the API server authenticated.
    const err = await client.get('/api/v1/namespaces/default/secrets').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect((err as Error).message).toContain('system:serviceaccount:default:op');
    // A garbage token is refused (401); after rotation to a valid token the next call works again.
    writeFileSync(join(saDir, 'token'), 'not-a-token');
    conn.invalidate();
    await expect(client.get('/api/v1/namespaces/default/secrets')).rejects.toMatchObject({ code: 401 });
    writeFileSync(join(saDir, 'token'), await serviceAccountToken('op'));
    await expect(client.get('/api/v1/namespaces/default/secrets')).rejects.toMatchObject({ code: 403 });
    client.close();
  });

  it('watches with bookmarks from a list resourceVersion and sees a change', async () => {
    const client = await kubeClientFor(cp.kubeconfigPath);
    const list = await client.get<{ metadata: { resourceVersion: string } }>(
      '/api/v1/namespaces/default/configmaps',
    );
    const events: string[] = [];
    let ended: unknown = 'open';
    const ctrl = await client.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 30 },
      (type, obj) => events.push(`${type} ${(obj as { metadata?: { name?: string } }).metadata?.name ?? ''}`),
      (err) => {
        ended = err;
      },
    );
    await client.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' }, data: { a: '1' } },
    });
    const deadline = Date.now() + 20_000;
    while (!events.includes('ADDED watched') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(events).toContain('ADDED watched');
    ctrl.abort();
    while (ended === 'open') await new Promise((r) => setTimeout(r, 10));
    expect(ended).toMatchObject({ name: 'AbortError' });
    client.close();
  });

  it('lists and watches Secrets as metadata only: no value reaches the client', async () => {
    const client = await kubeClientFor(cp.kubeconfigPath);
    const path = '/api/v1/namespaces/default/secrets';
    await client.request('POST', path, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'listed' }, stringData: { v: 'hidden-1' } },
    });
    const list = await client.get<{ kind: string; metadata: { resourceVersion: string }; items: object[] }>(
      path,
      { labelSelector: 'app.kubernetes.io/managed-by!=webui-operator' },
      CONTENT_TYPE.metadataList,
    );
    expect(list.kind).toBe('PartialObjectMetadataList');
    expect(list.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(list)).not.toMatch(/"data"|hidden|aGlkZGVu/);
    const seen: unknown[] = [];
    const ctrl = await client.watch(
      path,
      { resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 30 },
      (type, obj) => seen.push({ type, obj }),
      () => {},
      CONTENT_TYPE.metadata,
    );
    await client.request('POST', path, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'watched' },
        stringData: { v: 'hidden-2' },
      },
    });
    const deadline = Date.now() + 20_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen[0]).toMatchObject({
      type: 'ADDED',
      obj: { kind: 'PartialObjectMetadata', metadata: { name: 'watched' } },
    });
    expect(JSON.stringify(seen)).not.toMatch(/"data"|hidden|aGlkZGVu/);
    ctrl.abort();
    client.close();
  });
});
