// Leader election against a real kube-apiserver: the Lease is created,
// renewed, released and taken over through the real coordination.k8s.io/v1 API
// (including its MicroTime validation and optimistic concurrency).
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/harness/control-plane.ts';
import { kubeClientFor } from '../../test/support.ts';
import type { KubeClient } from '../kube/rest.ts';
import { kubeLeaseStore, LeaderElector, type LeadershipLossReason } from './leader-election.ts';

const NS = 'default';

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('leader election on a real API server', () => {
  let cp: ControlPlane;
  let api: CoordinationV1Api;
  let client: KubeClient;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    cp = await startControlPlane();
    // The operator's own client writes; client-node reads back independently.
    client = await kubeClientFor(cp.kubeconfigPath);
    api = cp.kubeConfig.makeApiClient(CoordinationV1Api);
  });
  afterAll(async () => {
    await Promise.all(electors.map((e) => e.stop({ release: false })));
    await cp?.stop();
  });

  function elector(lease: string, identity: string, leaseDurationMs: number) {
    const state = { started: 0, stopped: [] as LeadershipLossReason[] };
    const e = new LeaderElector({
      store: kubeLeaseStore(client, NS, lease),
      identity,
      leaseDurationMs,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 500,
      onStartedLeading: () => {
        state.started += 1;
      },
      onStoppedLeading: (reason) => {
        state.stopped.push(reason);
      },
    });
    electors.push(e);
    void e.start();
    return { e, state };
  }

  it('elects exactly one of two candidates and writes MicroTime the API server accepts', async () => {
    const a = elector('pair', 'a', 6_000);
    const b = elector('pair', 'b', 6_000);
    await waitFor('a leader', () => a.e.isLeader() || b.e.isLeader());
    // Several renew periods later there is still exactly one leader.
    await new Promise((r) => setTimeout(r, 3_000));
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.e.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    expect(follower.state.started).toBe(0);

    const lease = await api.readNamespacedLease({ name: 'pair', namespace: NS });
    expect(lease.spec?.holderIdentity).toBe(leader.e.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(6);
    expect(lease.spec?.leaseTransitions).toBe(0);
    // The server stores and returns MicroTime with 6 fractional digits.
    expect(String(lease.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(follower.e.currentLeader()).toBe(leader.e.identity);
  });

  it('hands over on release without waiting for the lease to expire', async () => {
    // A lease far longer than the test timeout: only a release can explain a takeover.
    const a = elector('release', 'a', 600_000);
    await waitFor('a to lead', () => a.e.isLeader());
    const b = elector('release', 'b', 600_000);
    await waitFor('b to observe a', () => b.e.currentLeader() === 'a');
    expect(b.e.isLeader()).toBe(false);

    await a.e.stop();
    expect(a.state.stopped).toEqual(['released']);
    await waitFor('b to lead', () => b.e.isLeader(), 30_000);
    const lease = await api.readNamespacedLease({ name: 'release', namespace: NS });
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it('takes over from a leader that died without releasing, only after the lease duration', async () => {
    const a = elector('crash', 'a', 5_000);
    await waitFor('a to lead', () => a.e.isLeader());
    const b = elector('crash', 'b', 5_000);
    await waitFor('b to observe a', () => b.e.currentLeader() === 'a');
    // kill -9: stop renewing, no release.
    await a.e.stop({ release: false });
    const lastRenew = await api.readNamespacedLease({ name: 'crash', namespace: NS });
    const lastRenewMs = Date.parse(String(lastRenew.spec?.renewTime));
    await waitFor('b to lead', () => b.e.isLeader(), 30_000);
    const lease = await api.readNamespacedLease({ name: 'crash', namespace: NS });
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
    // b acquired no earlier than a lease duration after a's last renewal.
    expect(Date.parse(String(lease.spec?.acquireTime)) - lastRenewMs).toBeGreaterThanOrEqual(5_000);
  });
});
