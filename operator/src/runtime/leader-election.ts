// Lease-based leader election for the operator, following client-go's
// tools/leaderelection algorithm (client-node ships none):
// - try to acquire every retryPeriod (jittered); create the Lease on 404;
// - a Lease held by someone else is respected until it has not CHANGED for
//   leaseDuration, measured on our own monotonic clock (never trust the remote
//   renewTime: clocks skew);
// - takeover and renewal replace the Lease with the resourceVersion we read, so
//   two candidates racing for an expired Lease cannot both win (409 = lost);
// - the leader renews every retryPeriod and gives up when no renewal has
//   succeeded for renewDeadline (< leaseDuration, so it stops acting before
//   anyone else may take over); a renewal still running at that deadline is
//   aborted underneath (the AbortSignal reaches the HTTP request), so it cannot
//   land after the leader gave up;
// - on graceful shutdown the leader releases the Lease (empty holder,
//   leaseDurationSeconds 1) so a standby takes over at once.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { V1Lease } from '@kubernetes/client-node';
// The one runtime piece of client-node the operator loads: a Date that prints
// microseconds. types.js is self-contained; the package index would load every model.
import { V1MicroTime } from '@kubernetes/client-node/dist/types.js';
import { sleep } from '../kube/backoff.ts';
import { httpStatusOf } from '../kube/errors.ts';
import { collectionPath, objectPath } from '../kube/resources.ts';
import type { KubeTransport } from '../kube/rest.ts';

/** The parts of a Lease the algorithm reads and writes. Times are epoch ms. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTimeMs?: number;
  renewTimeMs?: number;
  leaseTransitions: number;
  /** Opaque optimistic-concurrency token of the stored object. */
  resourceVersion: string;
}

export type LeaseWrite = Omit<LeaseRecord, 'resourceVersion'>;

/**
 * Storage for one Lease. Conflicts (lost races) are reported as LeaseConflictError. A call whose
 * signal aborts must stop its request and reject.
 */
export interface LeaseStore {
  readonly description: string;
  /** The current record, or null when the Lease does not exist. */
  get(signal?: AbortSignal): Promise<LeaseRecord | null>;
  /** Create the Lease; LeaseConflictError when it already exists. */
  create(record: LeaseWrite, signal?: AbortSignal): Promise<LeaseRecord>;
  /** Replace the Lease if it is still at resourceVersion; LeaseConflictError otherwise. */
  update(record: LeaseWrite, resourceVersion: string, signal?: AbortSignal): Promise<LeaseRecord>;
}

export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

/** Lease times arrive as MicroTime strings; a Date is accepted too. */
function timeMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' && value !== '') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export function leaseToRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const acquireTimeMs = timeMs(spec.acquireTime);
  const renewTimeMs = timeMs(spec.renewTime);
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    ...(acquireTimeMs === undefined ? {} : { acquireTimeMs }),
    ...(renewTimeMs === undefined ? {} : { renewTimeMs }),
  };
}

function recordToLease(
  name: string,
  namespace: string,
  record: LeaseWrite,
  resourceVersion?: string,
): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      // The API server only accepts MicroTime with 6 fractional digits; a plain
      // Date serializes with 3 and is refused with 400.
      ...(record.acquireTimeMs === undefined ? {} : { acquireTime: new V1MicroTime(record.acquireTimeMs) }),
      ...(record.renewTimeMs === undefined ? {} : { renewTime: new V1MicroTime(record.renewTimeMs) }),
    },
  };
}

/** A LeaseStore backed by coordination.k8s.io/v1 Leases. */
export function kubeLeaseStore(client: KubeTransport, namespace: string, name: string): LeaseStore {
  const path = objectPath('Lease', namespace, name);
  return {
    description: `lease ${namespace}/${name}`,
    async get(signal) {
      try {
        return leaseToRecord(await client.request<V1Lease>('GET', path, signal ? { signal } : {}));
      } catch (e) {
        if (httpStatusOf(e) === 404) return null;
        throw e;
      }
    },
    async create(record, signal) {
      try {
        return leaseToRecord(
          await client.request<V1Lease>('POST', collectionPath('Lease', namespace), {
            body: recordToLease(name, namespace, record),
            ...(signal ? { signal } : {}),
          }),
        );
      } catch (e) {
        if (httpStatusOf(e) === 409)
          throw new LeaseConflictError(`lease ${namespace}/${name} was created by someone else`);
        throw e;
      }
    },
    async update(record, resourceVersion, signal) {
      try {
        const body = recordToLease(name, namespace, record, resourceVersion);
        return leaseToRecord(
          await client.request<V1Lease>('PUT', path, { body, ...(signal ? { signal } : {}) }),
        );
      } catch (e) {
        if (httpStatusOf(e) === 409)
          throw new LeaseConflictError(`lease ${namespace}/${name} changed since it was read`);
        throw e;
      }
    },
  };
}

/** POD_NAME (downward API) when set, else the hostname; plus a random suffix so restarts never share an identity. */
export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.POD_NAME?.trim() || hostname();
  return `${base}_${randomUUID().slice(0, 8)}`;
}

export interface ElectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type LeadershipLossReason = 'renew-deadline-exceeded' | 'lease-taken' | 'released';

export interface LeaderElectionOptions {
  store: LeaseStore;
  identity: string;
  /** How long a non-renewed Lease keeps others away. client-go default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long. client-go default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts. client-go default 2 s. */
  retryPeriodMs?: number;
  /** Called once when this candidate becomes leader. */
  onStartedLeading?: () => void;
  /** Called once when leadership ends for any reason (also after release). */
  onStoppedLeading?: (reason: LeadershipLossReason) => void;
  /** Called when the observed holder changes ('' when nobody holds the Lease). */
  onNewLeader?: (identity: string) => void;
  log?: ElectionLogger;
  /** Monotonic milliseconds; injectable for tests. */
  monotonicNow?: () => number;
}

const JITTER = 1.2;

/**
 * A signal that aborts after `ms`, or with `parent`; `release()` stops its timer. Built on
 * setTimeout rather than AbortSignal.timeout so that tests with fake timers control it.
 */
function deadlineSignal(ms: number, parent?: AbortSignal): { signal: AbortSignal; release(): void } {
  const ctrl = new AbortController();
  const timer = setTimeout(
    () => ctrl.abort(new DOMException(`lease call did not finish within ${ms} ms`, 'TimeoutError')),
    Math.max(ms, 0),
  );
  const onParent = () => ctrl.abort(parent?.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ctrl.signal,
    release() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/**
 * One candidate. `start()` runs until leadership is lost or `stop()` is called;
 * it never throws for API errors (they are retried), only logs them.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly opts: LeaderElectionOptions;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private observed: LeaseRecord | null = null;
  private observedAtMono = 0;
  private leading = false;
  private lastHolder: string | undefined;
  private running: Promise<void> | undefined;
  private readonly listeners: { started: () => void; stopped: (reason: LeadershipLossReason) => void }[] = [];

  constructor(opts: LeaderElectionOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.now = opts.monotonicNow ?? (() => performance.now());
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) {
      throw new Error('leader election: the lease duration must be greater than the renew deadline');
    }
    if (!(this.renewDeadlineMs > this.retryPeriodMs * JITTER)) {
      throw new Error('leader election: the renew deadline must be greater than 1.2 x the retry period');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last observed ('' for none), or undefined before the first read. */
  currentLeader(): string | undefined {
    return this.lastHolder;
  }

  /** Adds leadership callbacks besides the ones given at construction. */
  onLeadershipChange(started: () => void, stopped: (reason: LeadershipLossReason) => void): void {
    this.listeners.push({ started, stopped });
  }

  /** Runs the election; resolves when leadership ended or stop() was called. Idempotent. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /**
   * Stops campaigning. When leading and `release` is true (the default), clears
   * the holder so a standby can take over without waiting for expiry.
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.abort.abort();
    await this.running;
    // Also covers stop() racing a successful acquisition that run() did not act on.
    if (release && this.observed?.holderIdentity === this.identity) await this.release();
    this.setLeading(false, 'released');
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    // Acquire. stop() aborts the attempt in flight.
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal)) break;
      await sleep(this.retryPeriodMs * (1 + Math.random() * (JITTER - 1)), signal);
    }
    if (signal.aborted) return;
    this.setLeading(true);
    // Renew until a renewal fails for renewDeadline, the Lease is taken, or stop().
    let lastRenewMono = this.now();
    while (!signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      const remaining = this.renewDeadlineMs - (this.now() - lastRenewMono);
      // Past the deadline the renewal is aborted, request included: a PUT that landed later
      // would renew a Lease this replica has already given up.
      const deadline = deadlineSignal(remaining, signal);
      const renewed = remaining > 0 && (await this.tryAcquireOrRenew(deadline.signal));
      deadline.release();
      if (signal.aborted) return;
      if (renewed) {
        lastRenewMono = this.now();
        continue;
      }
      if (
        this.observed &&
        this.observed.holderIdentity !== this.identity &&
        this.observed.holderIdentity !== ''
      ) {
        this.setLeading(false, 'lease-taken');
        return;
      }
      if (this.now() - lastRenewMono >= this.renewDeadlineMs) {
        this.setLeading(false, 'renew-deadline-exceeded');
        return;
      }
    }
  }

  private setLeading(leading: boolean, reason?: LeadershipLossReason): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (leading) {
      this.opts.log?.info({ identity: this.identity, lease: this.store.description }, 'became leader');
      this.opts.onStartedLeading?.();
      for (const l of this.listeners) l.started();
    } else {
      this.opts.log?.warn({ identity: this.identity, reason }, 'stopped leading');
      this.opts.onStoppedLeading?.(reason ?? 'released');
      for (const l of this.listeners) l.stopped(reason ?? 'released');
    }
  }

  private noteHolder(holder: string): void {
    if (holder === this.lastHolder) return;
    this.lastHolder = holder;
    this.opts.onNewLeader?.(holder);
  }

  private observe(record: LeaseRecord): void {
    this.observed = record;
    this.observedAtMono = this.now();
    this.noteHolder(record.holderIdentity);
  }

  /**
   * One step of client-go's tryAcquireOrRenew. True when we hold the Lease afterwards; false on
   * any failure, an aborted call included (logged).
   */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const wallNow = Date.now();
    const leaseSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let current: LeaseRecord | null;
    try {
      current = await this.store.get(signal);
    } catch (e) {
      this.opts.log?.warn({ err: String(e), lease: this.store.description }, 'reading the lease failed');
      return false;
    }
    if (current === null) {
      try {
        this.observe(
          await this.store.create(
            {
              holderIdentity: this.identity,
              leaseDurationSeconds: leaseSeconds,
              acquireTimeMs: wallNow,
              renewTimeMs: wallNow,
              leaseTransitions: 0,
            },
            signal,
          ),
        );
        return true;
      } catch (e) {
        if (!(e instanceof LeaseConflictError)) {
          this.opts.log?.warn({ err: String(e), lease: this.store.description }, 'creating the lease failed');
        }
        return false;
      }
    }

    // Any write changes the resourceVersion: that is our "record changed" signal.
    if (this.observed?.resourceVersion !== current.resourceVersion) this.observe(current);
    const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== this.identity;
    const observedDurationMs = current.leaseDurationSeconds * 1000;
    if (heldByOther && this.now() - this.observedAtMono < observedDurationMs) return false;

    const takingOver = current.holderIdentity !== this.identity;
    const next: LeaseWrite = {
      holderIdentity: this.identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTimeMs: takingOver ? wallNow : (current.acquireTimeMs ?? wallNow),
      renewTimeMs: wallNow,
      leaseTransitions: takingOver ? current.leaseTransitions + 1 : current.leaseTransitions,
    };
    try {
      this.observe(await this.store.update(next, current.resourceVersion, signal));
      return true;
    } catch (e) {
      if (!(e instanceof LeaseConflictError)) {
        this.opts.log?.warn({ err: String(e), lease: this.store.description }, 'updating the lease failed');
      }
      return false;
    }
  }

  /** Clear the holder so a standby does not wait for expiry. Best effort. */
  private async release(): Promise<void> {
    const observed = this.observed;
    if (!observed || observed.holderIdentity !== this.identity) return;
    const wallNow = Date.now();
    // Not tied to stop()'s signal, which has already aborted: the release gets its own deadline.
    const deadline = deadlineSignal(this.renewDeadlineMs);
    try {
      this.observe(
        await this.store.update(
          {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTimeMs: wallNow,
            renewTimeMs: wallNow,
            leaseTransitions: observed.leaseTransitions,
          },
          observed.resourceVersion,
          deadline.signal,
        ),
      );
      this.opts.log?.info({ identity: this.identity, lease: this.store.description }, 'released the lease');
    } catch (e) {
      this.opts.log?.warn({ err: String(e), lease: this.store.description }, 'releasing the lease failed');
    } finally {
      deadline.release();
    }
  }
}
