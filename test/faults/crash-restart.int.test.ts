import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_INSTANCE } from '../../operator/src/render/meta.ts';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import {
  type Clients,
  convergenceProblems,
  createWebUI,
  desiredChildren,
  getWebUI,
  installCrd,
  NS,
  type OperatorProcess,
  startOperator,
  testClients,
  waitConverged,
  waitFor,
} from './support.ts';

describe('kill -9 mid-reconcile, then restart', () => {
  let cp: ControlPlane;
  let ollama: FakeOllama;
  let c: Clients;
  const ops: OperatorProcess[] = [];

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrd(cp);
    ollama = await startFakeOllama({ host: '127.0.0.1', record: false });
    c = testClients(cp);
  });
  afterAll(async () => {
    for (const op of ops) await op.kill9();
    await ollama?.close();
    await cp?.stop();
  });

  it('converges without duplicates and keeps generated keys', async () => {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const names = Array.from({ length: 12 }, (_, i) => `crash-${i}`);
    for (const n of names) await createWebUI(c, n, { ollama: { baseUrl: ollama.url } });

    const first = await startOperator(cp, { name: 'op-1' });
    ops.push(first);
    // Kill as soon as the first children exist: the batch is mid-flight.
    await waitFor(
      'the first child objects',
      async () =>
        (await core.listNamespacedSecret({ namespace: NS })).items.some((s) =>
          s.metadata?.name?.startsWith('crash-'),
        ),
      60_000,
      20,
    );
    await first.kill9();
    expect(first.proc.exitInfo?.signal).toBe('SIGKILL');
    const unfinished: string[] = [];
    for (const n of names) if ((await convergenceProblems(c, n)).length > 0) unfinished.push(n);
    // The kill really interrupted the work (otherwise this test proves nothing).
    expect(unfinished.length).toBeGreaterThan(0);
    const keysBefore = new Map<string, string | undefined>();
    for (const s of (await core.listNamespacedSecret({ namespace: NS })).items) {
      if (s.metadata?.name?.startsWith('crash-')) keysBefore.set(s.metadata.name, JSON.stringify(s.data));
    }

    ops.push(await startOperator(cp, { name: 'op-2' }));
    await waitConverged(c, names);

    for (const n of names) {
      const w = await getWebUI(c, n);
      const byKind = new Map<string, number>();
      for (const d of desiredChildren(w)) byKind.set(d.kind ?? '', (byKind.get(d.kind ?? '') ?? 0) + 1);
      const selector = { namespace: NS, labelSelector: `${LABEL_INSTANCE}=${n}` };
      const live: Record<string, number> = {
        Secret: (await core.listNamespacedSecret(selector)).items.length,
        PersistentVolumeClaim: (await core.listNamespacedPersistentVolumeClaim(selector)).items.length,
        Service: (await core.listNamespacedService(selector)).items.length,
        Deployment: (await apps.listNamespacedDeployment(selector)).items.length,
      };
      for (const [kind, count] of Object.entries(live))
        expect(`${n} ${kind} x${count}`).toBe(`${n} ${kind} x${byKind.get(kind) ?? 0}`);
    }
    for (const s of (await core.listNamespacedSecret({ namespace: NS })).items) {
      const name = s.metadata?.name ?? '';
      if (keysBefore.has(name)) expect(JSON.stringify(s.data), `${name} key kept`).toBe(keysBefore.get(name));
    }
  });
});
