import type { V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node/dist/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError } from '../kube/errors.ts';
import type { KubeTransport, RequestOptions } from '../kube/rest.ts';
import {
  defaultIdentity,
  kubeLeaseStore,
  LeaderElector,
  type LeadershipLossReason,
  type LeaseStore,
  leaseToRecord,
} from './leader-election.ts';
import { MemoryLease } from './testing/memory-lease.ts';

interface Candidate {
  elector: LeaderElector;
  started: number;
  stopped: LeadershipLossReason[];
  done: Promise<void>;
}

function candidate(store: LeaseStore, identity: string): Candidate {
  const c: Partial<Candidate> & { started: number; stopped: LeadershipLossReason[] } = {
    started: 0,
    stopped: [],
  };
  c.elector = new LeaderElector({
    store,
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    monotonicNow: () => Date.now(),
    onStartedLeading: () => {
      c.started += 1;
    },
    onStoppedLeading: (reason) => {
      c.stopped.push(reason);
    },
  });
  c.done = c.elector.start();
  return c as Candidate;
}

describe('LeaderElector', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates a missing lease and leads, with MicroTime-able times and zero transitions', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.started).toBe(1);
    expect(store.record).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(store.record?.renewTimeMs).toBe(store.record?.acquireTimeMs);
    await a.elector.stop();
  });

  it('lets exactly one of two candidates lead while the leader keeps renewing', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    const b = candidate(store, 'b');
    await vi.advanceTimersByTimeAsync(60_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.elector.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    expect(follower.started).toBe(0);
    expect(follower.elector.currentLeader()).toBe(leader.elector.identity);
    // The leader renewed (renewTime moved) without transitions.
    expect(store.record?.holderIdentity).toBe(leader.elector.identity);
    expect(store.record?.leaseTransitions).toBe(0);
    expect(store.writes.length).toBeGreaterThan(10);
    await a.elector.stop();
    await b.elector.stop();
  });

  it('releases on stop so the standby takes over without waiting for expiry', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    const b = candidate(store, 'b');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(b.elector.isLeader()).toBe(false);

    await a.elector.stop();
    expect(a.stopped).toEqual(['released']);
    expect(store.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    // One retry period (plus jitter) is enough; far less than the 15 s lease.
    await vi.advanceTimersByTimeAsync(2_500);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await a.done;
    await b.elector.stop();
  });

  it('takes over a crashed leader only after the lease has not changed for the lease duration', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    const b = candidate(store, 'b');
    await vi.advanceTimersByTimeAsync(4_000);
    // "kill -9": the leader stops renewing and never releases.
    await a.elector.stop({ release: false });
    const lastChange = Date.now();
    await vi.advanceTimersByTimeAsync(12_000);
    expect(b.elector.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(8_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(Date.now() - lastChange).toBeGreaterThanOrEqual(15_000);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.stop();
  });

  it('measures expiry on its own clock, not the remote renewTime', async () => {
    const store = new MemoryLease();
    // A lease renewed "an hour ago" by a clock we cannot trust: still wait a full duration.
    await store.create({
      holderIdentity: 'skewed',
      leaseDurationSeconds: 15,
      acquireTimeMs: Date.now() - 3_600_000,
      renewTimeMs: Date.now() - 3_600_000,
      leaseTransitions: 4,
    });
    const b = candidate(store, 'b');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.elector.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.record?.leaseTransitions).toBe(5);
    await b.elector.stop();
  });

  it('stops leading when it cannot renew within the renew deadline', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    expect(a.elector.isLeader()).toBe(true);
    store.failing = true;
    await vi.advanceTimersByTimeAsync(8_000);
    expect(a.elector.isLeader()).toBe(true);
    await vi.advanceTimersByTimeAsync(4_500);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.stopped).toEqual(['renew-deadline-exceeded']);
    await a.done;
  });

  it('cancels a renewal that hangs past the renew deadline, so it cannot land afterwards', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    expect(a.elector.isLeader()).toBe(true);
    store.hanging = true;
    await vi.advanceTimersByTimeAsync(12_500);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.stopped).toEqual(['renew-deadline-exceeded']);
    // The request underneath was aborted, not left running.
    expect(store.aborted).toBeGreaterThanOrEqual(1);
    expect(store.pending).toBe(0);
    await a.done;
  });

  it('cancels the lease call in flight when it stops', async () => {
    const store = new MemoryLease();
    store.hanging = true;
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    expect(store.pending).toBe(1);
    await a.elector.stop();
    expect(store.pending).toBe(0);
    await a.done;
  });

  it('stops leading at once when it finds the lease held by someone else', async () => {
    const store = new MemoryLease();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(10);
    const rv = store.record?.resourceVersion ?? '';
    await store.update({ holderIdentity: 'intruder', leaseDurationSeconds: 15, leaseTransitions: 1 }, rv);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.stopped).toEqual(['lease-taken']);
    await a.done;
  });

  it('refuses timings where the leader could act after others may take over', () => {
    const store = new MemoryLease();
    expect(
      () => new LeaderElector({ store, identity: 'x', leaseDurationMs: 5_000, renewDeadlineMs: 5_000 }),
    ).toThrow(/lease duration must be greater/);
  });
});

describe('kubeLeaseStore', () => {
  it('writes MicroTime (6 fractional digits) and reads string times back', async () => {
    const bodies: V1Lease[] = [];
    const calls: string[] = [];
    const request = async <T>(method: string, path: string, opts?: RequestOptions): Promise<T> => {
      calls.push(`${method} ${path}`);
      const body = opts?.body as V1Lease;
      bodies.push(body);
      return {
        metadata: { resourceVersion: '7' },
        // What the API server returns: strings, not Dates.
        spec: {
          ...body.spec,
          acquireTime: '2026-11-24T15:00:00.123456Z',
          renewTime: '2026-11-24T15:00:01.000000Z',
        },
      } as unknown as T;
    };
    const fakeApi: KubeTransport = {
      request,
      get: (p) => request('GET', p),
      watch: async () => new AbortController(),
    };
    const store = kubeLeaseStore(fakeApi, 'ns', 'lock');
    const now = Date.parse('2026-11-24T15:00:00.123Z');
    const rec = await store.create({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: 0,
    });
    expect(calls).toEqual(['POST /apis/coordination.k8s.io/v1/namespaces/ns/leases']);
    // On the wire: six fractional digits, which the API server requires.
    expect(JSON.parse(JSON.stringify(bodies[0])).spec.renewTime).toBe('2026-11-24T15:00:00.123000Z');
    const sent = bodies[0]?.spec?.acquireTime;
    expect(sent).toBeInstanceOf(V1MicroTime);
    expect(sent?.toISOString()).toBe('2026-11-24T15:00:00.123000Z');
    expect(rec).toMatchObject({
      resourceVersion: '7',
      holderIdentity: 'a',
      acquireTimeMs: Date.parse('2026-11-24T15:00:00.123Z'),
      renewTimeMs: Date.parse('2026-11-24T15:00:01Z'),
    });
  });

  it('passes the abort signal to every request, so a timed-out call is cancelled underneath', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const request = async <T>(_m: string, _p: string, opts?: RequestOptions): Promise<T> => {
      signals.push(opts?.signal);
      return { metadata: { resourceVersion: '1' }, spec: {} } as T;
    };
    const store = kubeLeaseStore(
      { request, get: (p) => request('GET', p), watch: async () => new AbortController() },
      'ns',
      'lock',
    );
    const signal = new AbortController().signal;
    const rec = { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 };
    await store.get(signal);
    await store.create(rec, signal);
    await store.update(rec, '1', signal);
    expect(signals).toEqual([signal, signal, signal]);
  });

  it('maps 404 on read to "no lease" and 409 on create or replace to LeaseConflictError', async () => {
    const answer =
      (code: number) =>
      async <T>(): Promise<T> => {
        throw new KubeApiError(code, { reason: 'x', message: `HTTP ${code}` });
      };
    const store = (code: number) =>
      kubeLeaseStore(
        { request: answer(code), get: answer(code), watch: async () => new AbortController() },
        'ns',
        'lock',
      );
    const rec = { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 };
    await expect(store(404).get()).resolves.toBeNull();
    await expect(store(409).create(rec)).rejects.toMatchObject({ name: 'LeaseConflictError' });
    await expect(store(409).update(rec, '3')).rejects.toMatchObject({ name: 'LeaseConflictError' });
    await expect(store(500).get()).rejects.toMatchObject({ code: 500 });
  });

  it('treats missing spec fields as an unheld lease', () => {
    expect(leaseToRecord({ metadata: { resourceVersion: '1' } })).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 0,
      leaseTransitions: 0,
      resourceVersion: '1',
    });
  });
});

describe('defaultIdentity', () => {
  it('uses POD_NAME and adds a random suffix', () => {
    const a = defaultIdentity({ POD_NAME: 'op-0' });
    const b = defaultIdentity({ POD_NAME: 'op-0' });
    expect(a).toMatch(/^op-0_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });
});
