/**
 * Assembles the operator process: settings → kubeconfig → controller (and the WebUI seed's applier,
 * when a seed is set) → lifecycle (HTTP, leader election, signals).
 */
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { OperatorSettings } from './config.ts';
import { type ControllerObserver, WebUIController } from './controller/controller.ts';
import { loadKubeConnection } from './kube/kubeconfig.ts';
import { KubeClient } from './kube/rest.ts';
import { defaultIdentity, kubeLeaseStore, LeaderElector } from './runtime/leader-election.ts';
import { runOperatorLifecycle } from './runtime/lifecycle.ts';
import { managedGroup } from './runtime/managed-group.ts';
import { createOperatorMetrics } from './runtime/metrics.ts';
import { SeedApplier } from './seed/seed-applier.ts';

/** Inactivity limit of one watch connection; bookmarks arrive well within it. */
export const WATCH_IDLE_MS = 90_000;

export async function runOperator(settings: OperatorSettings): Promise<void> {
  const log = pino({ level: settings.logLevel, base: { component: 'webui-operator' } });
  const conn = await loadKubeConnection();
  const clientOptions = {
    timeoutMs: settings.requestTimeoutSeconds * 1000,
    watchIdleMs: WATCH_IDLE_MS,
    qps: settings.kubeApiQps,
    burst: settings.kubeApiBurst,
  };
  const client = new KubeClient(conn, clientOptions);
  const metrics = createOperatorMetrics();
  const observer: ControllerObserver = metrics.observer;
  const controller = new WebUIController({
    client,
    namespaces: settings.namespaces,
    defaultImage: settings.defaultImage,
    log,
    observer,
    concurrency: settings.concurrency,
    resyncMs: settings.resyncSeconds * 1000,
    reportingInstance: process.env.POD_NAME ?? hostname(),
  });
  const seed = settings.webuiSeed
    ? new SeedApplier({
        client,
        ...settings.webuiSeed,
        log,
        observer,
        reportingInstance: process.env.POD_NAME ?? hostname(),
        resyncMs: settings.resyncSeconds * 1000,
      })
    : undefined;
  const elector = settings.leaderElection
    ? new LeaderElector({
        // Its own client, so its own token bucket (as controller-runtime does): a backlog of
        // reconcile requests must not delay a renewal past the renew deadline.
        store: kubeLeaseStore(
          new KubeClient(conn, clientOptions),
          settings.leaderElectionNamespace,
          settings.leaderElectionId,
        ),
        identity: defaultIdentity(),
        log,
      })
    : undefined;
  log.info(
    {
      cluster: conn.server,
      credentials: conn.source,
      namespaces: settings.namespaces.length > 0 ? settings.namespaces : 'all',
      defaultImage: settings.defaultImage,
      leaderElection: settings.leaderElection,
      kubeApi: { qps: settings.kubeApiQps, burst: settings.kubeApiBurst },
      webuiSeed: settings.webuiSeed ? `${settings.webuiSeed.namespace}/${settings.webuiSeed.name}` : 'none',
    },
    'starting webui-operator',
  );
  await runOperatorLifecycle({
    // The seed's WebUI is written by the leader only, like every other write.
    controller: seed ? managedGroup([controller, seed]) : controller,
    metrics,
    ...(elector ? { elector } : {}),
    httpPort: settings.httpPort,
    log,
  });
}
