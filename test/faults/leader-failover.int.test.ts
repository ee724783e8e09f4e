import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import {
  type Clients,
  createWebUI,
  installCrd,
  NS,
  type OperatorProcess,
  operatorWrites,
  setOllamaUrl,
  startOperator,
  testClients,
  waitConverged,
  waitFor,
} from './support.ts';

const LEASE = 'webui-operator-failover';

describe('leader failover between two operator processes', () => {
  let cp: ControlPlane;
  let ollama: FakeOllama;
  let c: Clients;
  const ops: OperatorProcess[] = [];

  beforeAll(async () => {
    cp = await startControlPlane({ auditLog: true });
    await installCrd(cp);
    ollama = await startFakeOllama({ host: '127.0.0.1', record: false });
    c = testClients(cp);
  });
  afterAll(async () => {
    for (const op of ops) await op.kill9();
    await ollama?.close();
    await cp?.stop();
  });

  it('lets exactly one reconcile, and the standby takes over a killed leader within 20 s', async () => {
    ops.push(await startOperator(cp, { name: 'op-a', leaderElection: true, leaseName: LEASE }));
    ops.push(await startOperator(cp, { name: 'op-b', leaderElection: true, leaseName: LEASE }));
    const names = ['alpha', 'beta', 'gamma'];
    for (const n of names) await createWebUI(c, n, { ollama: { baseUrl: ollama.url } });
    await waitConverged(c, names);

    const leaders = await Promise.all(ops.map((o) => o.isLeader()));
    expect(leaders.filter((l) => l === true)).toHaveLength(1);
    const leader = ops[leaders.indexOf(true)] as OperatorProcess;
    const standby = ops.find((o) => o !== leader) as OperatorProcess;
    expect(await leader.reconcileCount()).toBeGreaterThan(0);
    expect(await standby.reconcileCount()).toBe(0);

    const coordination = cp.kubeConfig.makeApiClient(CoordinationV1Api);
    const before = await coordination.readNamespacedLease({ name: LEASE, namespace: NS });
    expect(before.spec?.holderIdentity).toMatch(new RegExp(`^${leader.name}_`));
    // Every write of the operators (Leases aside) came from the leader's identity.
    const writes = operatorWrites(await cp.readAuditEvents()).filter(
      (e) => e.objectRef?.resource !== 'leases',
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((e) => !e.userAgent?.includes(`(${before.spec?.holderIdentity})`))).toEqual([]);

    await leader.kill9();
    const killedAt = Date.now();
    // A change while nobody leads must not be lost.
    await setOllamaUrl(c, 'beta', `${ollama.url}/during-failover`);
    await waitFor('the standby to lead', () => standby.isLeader(), 20_000 - (Date.now() - killedAt), 200);
    const after = await coordination.readNamespacedLease({ name: LEASE, namespace: NS });
    expect(after.spec?.holderIdentity).toMatch(new RegExp(`^${standby.name}_`));
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
    await waitConverged(c, names);
    expect(await standby.reconcileCount()).toBeGreaterThan(0);
  });
});
