// The operator process around the controller: HTTP endpoints, leader election,
// and shutdown. One visible place decides when the controller may write:
// - every replica starts its informers (warm caches make a takeover fast), but
//   only the leader starts the queue workers (a standby never reconciles);
// - losing the Lease exits at once with status 1 (like controller-runtime):
//   another replica may already be writing, so no graceful path is safe;
// - SIGTERM/SIGINT: stop taking keys, let the reconcile in flight finish (up to
//   a deadline), stop the informers, release the Lease, exit 0. A second signal
//   exits at once.
import type { HealthCheck, OperatorHttpServer } from './http-server.ts';
import { startOperatorHttpServer } from './http-server.ts';
import type { LeaderElector, LeadershipLossReason } from './leader-election.ts';
import type { OperatorMetrics } from './metrics.ts';

/** What the lifecycle needs from the controller (informers + queue + workers). */
export interface ManagedController {
  /** Start the watches that fill the caches. Safe on a standby: it only reads. */
  startInformers(): Promise<void> | void;
  /** True once every informer has completed its first list. */
  hasSynced(): boolean;
  /** Start the workers that take keys off the queue and reconcile. Leader only. */
  startWorkers(): void;
  /** True while the workers run (readiness of the leader). */
  workersRunning(): boolean;
  /** Stop taking keys; resolve once no reconcile is in flight. */
  drain(): Promise<void>;
  /** Stop the watches. */
  stopInformers(): Promise<void> | void;
  /**
   * Milliseconds since each watch last heard from the API server (event,
   * bookmark or successful (re)list), by resource. For liveness.
   */
  watchSilenceMs?(): Record<string, number>;
}

export interface LifecycleLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LifecycleOptions {
  controller: ManagedController;
  metrics: OperatorMetrics;
  /** Undefined: leader election is off and this replica leads at once (one replica only!). */
  elector?: LeaderElector;
  httpPort: number;
  httpHost?: string;
  /** How long shutdown waits for the reconcile in flight. Default 20 s (under the pod's 30 s grace period). */
  shutdownDeadlineMs?: number;
  /**
   * /healthz fails when a watch has been silent for longer than this. The watch
   * layer's own watchdog should have restarted it long before; failing liveness
   * means that did not work, and a restart of the pod is the remaining cure.
   * Default 10 min.
   */
  watchStallMs?: number;
  log: LifecycleLogger;
  /** process.exit, injectable for tests. */
  exit?: (code: number) => void;
}

export interface RunningOperator {
  readonly http: OperatorHttpServer;
  /** Graceful shutdown (what SIGTERM does). Resolves after exit() was called. */
  shutdown(reason: string): Promise<void>;
  /** Remove the signal handlers (tests). */
  detachSignals(): void;
}

const INFORMER_STOP_MS = 3_000;

function deadline<T>(promise: Promise<T>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => 'done' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function healthChecks(
  controller: ManagedController,
  isLeader: () => boolean,
  watchStallMs: number,
): { liveness: HealthCheck[]; readiness: HealthCheck[] } {
  return {
    liveness: [
      {
        name: 'watches',
        check: () => {
          const stuck = Object.entries(controller.watchSilenceMs?.() ?? {}).filter(
            ([, ms]) => ms > watchStallMs,
          );
          if (stuck.length === 0) return { ok: true };
          return {
            ok: false,
            detail: stuck.map(([r, ms]) => `${r} silent for ${Math.round(ms / 1000)}s`).join(', '),
          };
        },
      },
    ],
    readiness: [
      {
        name: 'informers-synced',
        check: () =>
          controller.hasSynced() ? { ok: true } : { ok: false, detail: 'caches have not synced yet' },
      },
      {
        // A standby is ready (it is healthy and can take over); the leader is
        // ready once its workers run.
        name: 'workers',
        check: () =>
          !isLeader() || controller.workersRunning()
            ? { ok: true }
            : { ok: false, detail: 'leading but the workers are not running' },
      },
    ],
  };
}

export async function runOperatorLifecycle(opts: LifecycleOptions): Promise<RunningOperator> {
  const { controller, metrics, elector, log } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const shutdownDeadlineMs = opts.shutdownDeadlineMs ?? 20_000;
  let leading = false;
  let shuttingDown: Promise<void> | undefined;

  const checks = healthChecks(controller, () => leading, opts.watchStallMs ?? 600_000);
  const http = await startOperatorHttpServer({
    port: opts.httpPort,
    ...(opts.httpHost ? { host: opts.httpHost } : {}),
    registry: metrics.registry,
    ...checks,
  });
  log.info({ port: http.port }, 'serving /metrics, /healthz and /readyz');

  const startLeading = () => {
    leading = true;
    metrics.leader.set(1);
    if (shuttingDown) return;
    log.info({}, 'leading: starting the workers');
    controller.startWorkers();
  };

  const shutdown = (reason: string): Promise<void> => {
    shuttingDown ??= (async () => {
      log.info({ reason }, 'shutting down: finishing the reconcile in flight');
      const drained = await deadline(controller.drain(), shutdownDeadlineMs);
      if (drained === 'timeout') {
        log.warn(
          { deadlineMs: shutdownDeadlineMs },
          'a reconcile was still running at the shutdown deadline',
        );
      }
      // Informers only read; a list still waiting on a hung API server must not hold up the
      // release (watches abort at once, but an in-flight list runs to its request timeout).
      if ((await deadline(Promise.resolve(controller.stopInformers()), INFORMER_STOP_MS)) === 'timeout') {
        log.warn({ deadlineMs: INFORMER_STOP_MS }, 'informers did not stop in time; going on');
      }
      // Releasing while a reconcile still runs would let the next leader write
      // concurrently; then let the Lease expire instead.
      await elector?.stop({ release: drained === 'done' });
      metrics.leader.set(0);
      await http.close();
      log.info({}, 'shut down');
      exit(0);
    })();
    return shuttingDown;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting at once');
      exit(1);
      return;
    }
    void shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await controller.startInformers();
  if (!elector) {
    startLeading();
  } else {
    const onLoss = (reason: LeadershipLossReason) => {
      leading = false;
      metrics.leader.set(0);
      if (reason === 'released' || shuttingDown) return;
      log.error({ reason, identity: elector.identity }, 'lost the leader lease: exiting');
      exit(1);
    };
    // The elector takes its callbacks at construction; wire ours through its hooks.
    elector.onLeadershipChange(startLeading, onLoss);
    void elector.start();
  }

  return {
    http,
    shutdown,
    detachSignals() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
