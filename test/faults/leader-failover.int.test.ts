import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
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
  const proxies: FaultProxy[] = [];

  beforeAll(async () => {
    cp = await startControlPlane({ auditLog: true });
    await installCrd(cp);
    ollama = await startFakeOllama({ host: '127.0.0.1', record: false });
    c = testClients(cp);
  });
  afterAll(async () => {
    for (const op of ops) await op.kill9();
    for (const p of proxies) await p.close();
    await ollama?.close();
    await cp?.stop();
  });

  it('lets exactly one reconcile, and the standby takes over a killed leader within 20 s', async () => {
    // Each operator talks through its own pass-through proxy that tags its User-Agent,
    // so the audit log tells whose writes are whose.
    for (const name of ['op-a', 'op-b']) {
      const proxy = await startFaultProxy(cp, { tag: name });
      proxies.push(proxy);
      ops.push(
        await startOperator(cp, {
          name,
          leaderElection: true,
          leaseName: LEASE,
          env: { KUBECONFIG: proxy.kubeconfigPath },
        }),
      );
    }
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
    // Every write of the operators (Leases aside) came from the leader.
    const writes = operatorWrites(await cp.readAuditEvents()).filter(
      (e) => e.objectRef?.resource !== 'leases',
    );
    expect(writes.length).toBeGreaterThan(0);
    const fromStandby = writes.filter((e) => !e.userAgent?.endsWith(`(via ${leader.name})`));
    expect(fromStandby.map((e) => `${e.verb} ${e.requestURI} ${e.userAgent}`)).toEqual([]);

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

  it('on SIGTERM the leader exits 0 and releases the Lease, so the standby takes over at once', async () => {
    const leader = ops.find((o) => !o.proc.exitInfo) as OperatorProcess;
    expect(await leader.isLeader()).toBe(true);
    const proxy = await startFaultProxy(cp, { tag: 'op-c' });
    proxies.push(proxy);
    const standby = await startOperator(cp, {
      name: 'op-c',
      leaderElection: true,
      leaseName: LEASE,
      env: { KUBECONFIG: proxy.kubeconfigPath },
    });
    ops.push(standby);
    expect(await standby.isLeader()).toBe(false);

    await leader.stop(30_000);
    expect(leader.proc.exitInfo).toEqual({ code: 0, signal: null });
    const coordination = cp.kubeConfig.makeApiClient(CoordinationV1Api);
    const lease = await coordination.readNamespacedLease({ name: LEASE, namespace: NS });
    // Released (empty holder), or already taken by op-c: never still the old leader.
    expect(lease.spec?.holderIdentity ?? '').toMatch(/^(|op-c_.*)$/);
    await waitFor('op-c to lead', () => standby.isLeader(), 20_000, 200);
    await setOllamaUrl(c, 'gamma', `${ollama.url}/after-handover`);
    await waitConverged(c, ['alpha', 'beta', 'gamma']);
  });
});
