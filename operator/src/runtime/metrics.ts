// Prometheus metrics of the operator. One registry per process (created in the
// entry point and passed around), never prom-client's global one, so tests can
// build as many operators as they like.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type ReconcileResult = 'success' | 'error' | 'requeue';

/**
 * What the controller reports as it runs. The controller depends on this small
 * interface only (no prom-client types), so it stays testable without metrics.
 */
export interface ControllerObserver {
  /** A reconcile of one key finished after `seconds`. */
  reconciled(result: ReconcileResult, seconds: number): void;
  /** The work queue now holds `depth` waiting keys. */
  queueDepth(depth: number): void;
  /** A key was added to the work queue (after deduplication). */
  queueAdded(): void;
  /** A watch on `resource` was restarted; reason is a short word (gone, error, timeout, watchdog, closed). */
  watchRestarted(resource: string, reason: string): void;
}

export interface OperatorMetrics {
  readonly registry: Registry;
  /** Reconciles finished, by result. */
  readonly reconcileTotal: Counter<'result'>;
  /** Wall time of one reconcile, by result. */
  readonly reconcileDuration: Histogram<'result'>;
  /** Keys waiting in the work queue (not counting the ones being processed). */
  readonly workQueueDepth: Gauge;
  /** Keys added to the work queue (after deduplication). */
  readonly workQueueAdds: Counter;
  /** Watch (re)starts after the first one, by resource and reason (e.g. gone, error, timeout, watchdog). */
  readonly watchRestarts: Counter<'resource' | 'reason'>;
  /** 1 while this replica holds the leader Lease, else 0. */
  readonly leader: Gauge;
  /** Record one finished reconcile. */
  observeReconcile(result: ReconcileResult, seconds: number): void;
  /** The same metrics as the controller-facing observer. */
  readonly observer: ControllerObserver;
}

const PREFIX = 'webui_operator_';

export function createOperatorMetrics({
  defaultMetrics = true,
}: {
  defaultMetrics?: boolean;
} = {}): OperatorMetrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  const reconcileTotal = new Counter({
    name: `${PREFIX}reconcile_total`,
    help: 'Reconciles of WebUI resources, by result (success, error, requeue).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const reconcileDuration = new Histogram({
    name: `${PREFIX}reconcile_duration_seconds`,
    help: 'Duration of one reconcile of a WebUI resource, by result.',
    labelNames: ['result'] as const,
    // From a cached no-op (milliseconds) to a slow API server (tens of seconds).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const workQueueDepth = new Gauge({
    name: `${PREFIX}workqueue_depth`,
    help: 'Keys waiting in the work queue.',
    registers: [registry],
  });
  const workQueueAdds = new Counter({
    name: `${PREFIX}workqueue_adds_total`,
    help: 'Keys added to the work queue after deduplication.',
    registers: [registry],
  });
  const watchRestarts = new Counter({
    name: `${PREFIX}watch_restarts_total`,
    help: 'Watch restarts, by watched resource and reason.',
    labelNames: ['resource', 'reason'] as const,
    registers: [registry],
  });
  const leader = new Gauge({
    name: `${PREFIX}leader`,
    help: '1 while this replica holds the leader election Lease, else 0.',
    registers: [registry],
  });
  leader.set(0);
  workQueueDepth.set(0);
  // Export zero series for every result so rate() works before the first error.
  for (const result of ['success', 'error', 'requeue'] as const) reconcileTotal.inc({ result }, 0);

  const observeReconcile = (result: ReconcileResult, seconds: number) => {
    reconcileTotal.inc({ result });
    reconcileDuration.observe({ result }, seconds);
  };
  return {
    registry,
    reconcileTotal,
    reconcileDuration,
    workQueueDepth,
    workQueueAdds,
    watchRestarts,
    leader,
    observeReconcile,
    observer: {
      reconciled: observeReconcile,
      queueDepth: (depth) => workQueueDepth.set(depth),
      queueAdded: () => workQueueAdds.inc(),
      watchRestarted: (resource, reason) => watchRestarts.inc({ resource, reason }),
    },
  };
}
