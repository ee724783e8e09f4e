import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElector } from './leader-election.ts';
import { type ManagedController, type RunningOperator, runOperatorLifecycle } from './lifecycle.ts';
import { createOperatorMetrics } from './metrics.ts';
import { MemoryLease } from './testing/memory-lease.ts';

const quiet = { info() {}, warn() {}, error() {} };

/** A controller that records the order of lifecycle calls; drain() resolves when `finishInFlight` is called. */
class FakeController implements ManagedController {
  calls: string[] = [];
  synced = false;
  running = false;
  silence: Record<string, number> = {};
  private inFlight: Promise<void> = Promise.resolve();
  private release: () => void = () => {};
  startInformers() {
    this.calls.push('startInformers');
  }
  hasSynced() {
    return this.synced;
  }
  startWorkers() {
    this.calls.push('startWorkers');
    this.running = true;
  }
  workersRunning() {
    return this.running;
  }
  beginReconcile() {
    this.inFlight = new Promise((r) => {
      this.release = r;
    });
  }
  finishInFlight() {
    this.calls.push('reconcileFinished');
    this.release();
  }
  async drain() {
    this.calls.push('drain');
    this.running = false;
    await this.inFlight;
  }
  hangOnStop = false;
  stopInformers(): Promise<void> | undefined {
    this.calls.push('stopInformers');
    return this.hangOnStop ? new Promise<void>(() => {}) : undefined;
  }
  watchSilenceMs() {
    return this.silence;
  }
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not reached');
}

describe('runOperatorLifecycle', () => {
  const running: RunningOperator[] = [];
  const electors: LeaderElector[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.detachSignals();
      await r.http.close();
    }
    for (const e of electors.splice(0)) await e.stop({ release: false });
  });

  async function start(
    controller: FakeController,
    extra: { elector?: LeaderElector; shutdownDeadlineMs?: number },
  ) {
    const exits: number[] = [];
    if (extra.elector) electors.push(extra.elector);
    const metrics = createOperatorMetrics({ defaultMetrics: false });
    const op = await runOperatorLifecycle({
      controller,
      metrics,
      httpPort: 0,
      httpHost: '127.0.0.1',
      log: quiet,
      exit: (code) => exits.push(code),
      watchStallMs: 60_000,
      ...extra,
    });
    running.push(op);
    const url = (path: string) => `http://127.0.0.1:${op.http.port}${path}`;
    return { op, exits, metrics, url };
  }

  it('without leader election, leads at once; ready only after the caches synced', async () => {
    const c = new FakeController();
    const { url, metrics } = await start(c, {});
    expect(c.calls).toEqual(['startInformers', 'startWorkers']);
    expect((await fetch(url('/readyz'))).status).toBe(503);
    c.synced = true;
    expect((await fetch(url('/readyz'))).status).toBe(200);
    expect((await metrics.leader.get()).values[0]?.value).toBe(1);
  });

  it('fails liveness when a watch is silent past the stall limit', async () => {
    const c = new FakeController();
    const { url } = await start(c, {});
    c.silence = { webuis: 1_000 };
    expect((await fetch(url('/healthz'))).status).toBe(200);
    c.silence = { webuis: 120_000 };
    const res = await fetch(url('/healthz'));
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('webuis silent for 120s');
  });

  it('starts workers only on the leader; on shutdown drains, stops, releases, and the standby takes over', async () => {
    const lease = new MemoryLease();
    const elector = (id: string) =>
      new LeaderElector({
        store: lease,
        identity: id,
        leaseDurationMs: 60_000,
        renewDeadlineMs: 200,
        retryPeriodMs: 50,
      });
    const a = new FakeController();
    const b = new FakeController();
    a.synced = b.synced = true;
    const ra = await start(a, { elector: elector('a') });
    await waitFor(() => a.running);
    const rb = await start(b, { elector: elector('b') });
    await new Promise((r) => setTimeout(r, 200));
    expect(b.calls).toEqual(['startInformers']);
    // A standby is ready: healthy, caches warm, waiting for the Lease.
    expect((await fetch(rb.url('/readyz'))).status).toBe(200);
    expect((await rb.metrics.leader.get()).values[0]?.value).toBe(0);

    a.beginReconcile();
    const shutdown = ra.op.shutdown('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    // Still waiting for the reconcile in flight; the Lease is still held.
    expect(ra.exits).toEqual([]);
    expect(lease.record?.holderIdentity).toBe('a');
    a.finishInFlight();
    await shutdown;
    expect(a.calls).toEqual([
      'startInformers',
      'startWorkers',
      'drain',
      'reconcileFinished',
      'stopInformers',
    ]);
    expect(ra.exits).toEqual([0]);
    // Released, so b leads long before the 60 s lease would expire.
    await waitFor(() => b.running);
    expect(lease.record?.holderIdentity).toBe('b');
    expect((await rb.metrics.leader.get()).values[0]?.value).toBe(1);
  });

  it('keeps the Lease (no release) when the reconcile in flight outlives the shutdown deadline', async () => {
    const lease = new MemoryLease();
    const elector = new LeaderElector({
      store: lease,
      identity: 'a',
      leaseDurationMs: 60_000,
      renewDeadlineMs: 200,
      retryPeriodMs: 50,
    });
    const c = new FakeController();
    const { op, exits } = await start(c, { elector, shutdownDeadlineMs: 100 });
    await waitFor(() => c.running);
    c.beginReconcile(); // never finishes
    await op.shutdown('SIGTERM');
    expect(exits).toEqual([0]);
    expect(lease.record?.holderIdentity).toBe('a');
  });

  it('exits with 1 when the Lease is lost', async () => {
    const lease = new MemoryLease();
    const elector = new LeaderElector({
      store: lease,
      identity: 'a',
      leaseDurationMs: 60_000,
      renewDeadlineMs: 200,
      retryPeriodMs: 50,
    });
    const c = new FakeController();
    const { exits } = await start(c, { elector });
    await waitFor(() => c.running);
    lease.failing = true;
    await waitFor(() => exits.length > 0);
    expect(exits).toEqual([1]);
  });

  it('still releases and exits when an informer cannot stop (a watch stuck connecting)', async () => {
    const lease = new MemoryLease();
    const elector = new LeaderElector({
      store: lease,
      identity: 'a',
      leaseDurationMs: 60_000,
      renewDeadlineMs: 200,
      retryPeriodMs: 50,
    });
    const c = new FakeController();
    c.hangOnStop = true;
    const { op, exits } = await start(c, { elector });
    await waitFor(() => c.running);
    await op.shutdown('SIGTERM');
    expect(exits).toEqual([0]);
    expect(lease.record?.holderIdentity).toBe('');
  });
});
