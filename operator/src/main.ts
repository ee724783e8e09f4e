/** Assembles the operator process: settings → kubeconfig → controller → lifecycle (HTTP, leader election, signals). */
import { hostname } from 'node:os';
import { CoordinationV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { OperatorSettings } from './config.ts';
import { type ControllerObserver, WebUIController } from './controller/controller.ts';
import { clientFactory } from './kube/client.ts';
import type { WatchFn } from './kube/informer.ts';
import { defaultIdentity, kubeLeaseStore, LeaderElector } from './runtime/leader-election.ts';
import { runOperatorLifecycle } from './runtime/lifecycle.ts';
import { createOperatorMetrics } from './runtime/metrics.ts';

/** Inactivity limit of one watch connection; bookmarks arrive well within it. */
const WATCH_IDLE_MS = 90_000;

export function kubeConfigFromEnvironment(): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (e) {
    throw new Error(
      `KUBECONFIG: cannot load ${process.env.KUBECONFIG ?? 'the kubeconfig'} (${(e as Error).message.split('\n')[0]}); point KUBECONFIG at a readable kubeconfig file`,
    );
  }
  const cluster = kc.getCurrentCluster();
  // loadFromDefault silently falls back to http://localhost:8080 when it finds nothing.
  if (!cluster || (cluster.server === 'http://localhost:8080' && !process.env.KUBECONFIG)) {
    throw new Error(
      'KUBECONFIG: no cluster found; set KUBECONFIG to a kubeconfig file, or run in a pod with a service account',
    );
  }
  return kc;
}

export function watchFn(kc: KubeConfig): WatchFn {
  const w = new Watch(kc);
  (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_IDLE_MS;
  return (path, query, onEvent, done) => w.watch(path, query, onEvent, done);
}

export async function runOperator(settings: OperatorSettings): Promise<void> {
  const log = pino({ level: settings.logLevel, base: { component: 'webui-operator' } });
  const kc = kubeConfigFromEnvironment();
  const factory = await clientFactory(kc, settings.requestTimeoutSeconds * 1000);
  const metrics = createOperatorMetrics();
  const observer: ControllerObserver = metrics.observer;
  const controller = new WebUIController({
    factory,
    watch: watchFn(kc),
    namespaces: settings.namespaces,
    defaultImage: settings.defaultImage,
    log,
    observer,
    concurrency: settings.concurrency,
    resyncMs: settings.resyncSeconds * 1000,
    reportingInstance: process.env.POD_NAME ?? hostname(),
  });
  const elector = settings.leaderElection
    ? new LeaderElector({
        store: kubeLeaseStore(
          factory.makeApiClient(CoordinationV1Api),
          settings.leaderElectionNamespace,
          settings.leaderElectionId,
        ),
        identity: defaultIdentity(),
        log,
      })
    : undefined;
  log.info(
    {
      cluster: kc.getCurrentCluster()?.server,
      namespaces: settings.namespaces.length > 0 ? settings.namespaces : 'all',
      defaultImage: settings.defaultImage,
      leaderElection: settings.leaderElection,
    },
    'starting webui-operator',
  );
  await runOperatorLifecycle({
    controller,
    metrics,
    ...(elector ? { elector } : {}),
    httpPort: settings.httpPort,
    log,
  });
}
