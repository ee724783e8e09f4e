// `make dev-cluster`: a real one-node Kubernetes cluster in the foreground (cluster.ts), with the
// project's images loaded into the node; the admin kubeconfig is written to .dev/kubeconfig. The
// CRD is left to `helm install`, as on any cluster (applying it here made the README's helm
// install fail on ownership). DEV_CLUSTER_NODE=0 starts the control plane alone (etcd,
// kube-apiserver, kube-controller-manager; no root needed, Pods stay Pending) and applies the CRDs
// in crds/, since nothing but an operator run from source can use that cluster. Ctrl-C (or SIGTERM)
// stops it, removes its state and puts the host back as it was: every run starts empty.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './binaries.ts';
import { type Cluster, startCluster } from './cluster.ts';
import { applyCrdFile, type ControlPlane, startControlPlane } from './control-plane.ts';
import { apiPortFrom } from './dev-cluster-env.ts';
import { devImages } from './dev-images.ts';
import { get } from './probe.ts';

const devDir = join(REPO_ROOT, '.dev');
const stateDir = join(devDir, 'cluster');
const kubeconfig = process.env.DEV_CLUSTER_KUBECONFIG ?? join(devDir, 'kubeconfig');
const withNode = process.env.DEV_CLUSTER_NODE !== '0';

const rel = (p: string) => relative(process.cwd(), p) || '.';

/** keepLogs: after a failure the state dir stays for inspection (the next run clears it). */
function cleanUp(keepLogs = false): void {
  if (!keepLogs) rmSync(stateDir, { recursive: true, force: true });
  rmSync(kubeconfig, { force: true });
}

async function applyRepoCrds(cp: ControlPlane): Promise<string[]> {
  const dir = join(REPO_ROOT, 'crds');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    return [];
  }
  const applied: string[] = [];
  for (const f of files) {
    try {
      await applyCrdFile(cp, join(dir, f));
      applied.push(f);
    } catch (err) {
      // A CRD under development must not keep the cluster from starting.
      console.error(`dev-cluster: could not apply crds/${f}: ${err instanceof Error ? err.message : err}`);
    }
  }
  return applied;
}

interface Started {
  cp: ControlPlane;
  stop(): Promise<void>;
  summary: string;
  /** The control plane alone: apply crds/ for an operator run from source (with a node, the chart does). */
  applyCrds: boolean;
}

async function startWithNode(apiPort: number | undefined): Promise<Started> {
  console.log('dev-cluster: building the images (only those whose inputs changed) ...');
  const images = await devImages((line) => console.log(`dev-cluster: ${line}`));
  console.log(
    `dev-cluster: starting a one-node cluster (needs root; state in ${rel(process.env.WEBUI_DEV_NODE_ROOT ?? '/var/lib/webui-dev-node')}) ...`,
  );
  const cluster: Cluster = await startCluster({
    images: images.map((i) => i.archive),
    ...(apiPort !== undefined ? { apiPort } : {}),
    log: (line) => console.log(`dev-cluster: ${line}`),
  });
  return {
    cp: cluster.cp,
    stop: () => cluster.stop(),
    applyCrds: false,
    summary: `  node:              ${cluster.nodeName} (Ready; kubelet, containerd, kube-proxy, CoreDNS), address ${cluster.hostIp}
  images on node:    ${images.map((i) => i.ref).join(', ')}
  pods and Services: 198.18.0.0/17 and 198.18.128.0/17, no route off this machine
  next:              the README's "Kubernetes" section (helm install, a WebUI, port-forward)
  or, from source:   kubectl apply --server-side -f crds/ && make run-operator (then helm install
                     needs --set crds.install=false)
  logs:              ${rel(join(cluster.root, 'logs'))}/ and ${rel(cluster.cp.logDir)}/`,
  };
}

async function startControlPlaneOnly(apiPort: number | undefined): Promise<Started> {
  console.log(
    'dev-cluster: starting etcd, kube-apiserver and kube-controller-manager (DEV_CLUSTER_NODE=0) ...',
  );
  const cp = await startControlPlane({
    controllerManager: true,
    dir: stateDir,
    ...(apiPort !== undefined ? { apiPort } : {}),
  });
  return {
    cp,
    stop: () => cp.stop(),
    applyCrds: true,
    summary: `  controllers:       namespace, garbage collector, deployment, replicaset, serviceaccount(+token)
                     (no scheduler or kubelet: Pods stay Pending; drop DEV_CLUSTER_NODE=0 for a real node)
  logs:              ${rel(cp.logDir)}/`,
  };
}

async function main(): Promise<void> {
  let apiPort: number | undefined;
  try {
    apiPort = apiPortFrom(process.env.DEV_CLUSTER_API_PORT);
  } catch (err) {
    console.error(`dev-cluster: ${err instanceof Error ? err.message : err}`);
    process.exit(2);
  }
  let started: Started;
  try {
    started = withNode ? await startWithNode(apiPort) : await startControlPlaneOnly(apiPort);
  } catch (err) {
    cleanUp(true);
    console.error(`dev-cluster: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
  const { cp } = started;
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`\ndev-cluster: ${reason}, stopping ...`);
    try {
      await started.stop();
    } catch (err) {
      console.error(`dev-cluster: ${err instanceof Error ? err.message : err}`);
      code = code || 1;
    }
    cleanUp(code !== 0);
    console.log('dev-cluster: stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) {
        // Second Ctrl-C: give up waiting; the exit hooks and the node's reaper clean up.
        cleanUp();
        process.exit(130);
      }
      void stop(`got ${signal}`, 0);
    });
  }

  mkdirSync(dirname(kubeconfig), { recursive: true });
  copyFileSync(cp.kubeconfigPath, kubeconfig);
  chmodSync(kubeconfig, 0o600);
  const crds = started.applyCrds ? await applyRepoCrds(cp) : [];
  const version = JSON.parse((await get(`${cp.server}/version`, cp.adminTls)).body) as { gitVersion: string };

  console.log(`
dev-cluster: Kubernetes ${version.gitVersion} is up at ${cp.server} (ready in ${((Date.now() - startedAt) / 1000).toFixed(1)}s)
  admin kubeconfig:  ${rel(kubeconfig)}   (user admin, group system:masters)
  try:               bin/kubectl --kubeconfig ${rel(kubeconfig)} get nodes,pods -A
  or:                export KUBECONFIG=${kubeconfig}
  CRDs applied:      ${crds.length ? crds.map((f) => `crds/${f}`).join(', ') : started.applyCrds ? 'none' : 'none (helm install installs webuis.webui.dev)'}
${started.summary}
Press Ctrl-C to stop; the cluster state is thrown away.`);

  // Notice a crashed component instead of pretending to run.
  let failures = 0;
  setInterval(async () => {
    if (stopping) return;
    const ok = await get(`${cp.server}/livez`, cp.adminTls).then(
      (r) => r.status === 200,
      () => false,
    );
    failures = ok ? 0 : failures + 1;
    if (failures >= 3) await stop(`kube-apiserver stopped answering (see ${rel(cp.logDir)}/)`, 1);
  }, 5000);
}

const startedAt = Date.now();
await main();
