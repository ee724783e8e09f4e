// `make dev-cluster`: a local control plane (etcd, kube-apiserver,
// kube-controller-manager) in the foreground for manual work, with the admin
// kubeconfig in .dev/kubeconfig and the repository's CRDs applied. Ctrl-C
// (or SIGTERM) stops it and removes its state: every run starts empty.
import { chmodSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './binaries.ts';
import { applyCrdFile, type ControlPlane, startControlPlane } from './control-plane.ts';
import { get } from './probe.ts';

const devDir = join(REPO_ROOT, '.dev');
const stateDir = join(devDir, 'cluster');
const kubeconfig = join(devDir, 'kubeconfig');
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

async function main(): Promise<void> {
  console.log('dev-cluster: starting etcd, kube-apiserver and kube-controller-manager ...');
  let cp: ControlPlane;
  try {
    cp = await startControlPlane({ controllerManager: true, dir: stateDir });
  } catch (err) {
    cleanUp(true);
    console.error(`dev-cluster: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`\ndev-cluster: ${reason}, stopping ...`);
    await cp.stop();
    cleanUp(code !== 0);
    console.log('dev-cluster: stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) {
        // Second Ctrl-C: give up waiting; the exit hook kills the processes.
        cleanUp();
        process.exit(130);
      }
      void stop(`got ${signal}`, 0);
    });
  }

  copyFileSync(cp.kubeconfigPath, kubeconfig);
  chmodSync(kubeconfig, 0o600);
  const crds = await applyRepoCrds(cp);
  const version = JSON.parse((await get(`${cp.server}/version`, cp.adminTls)).body) as { gitVersion: string };

  console.log(`
dev-cluster: Kubernetes ${version.gitVersion} is up at ${cp.server} (started in ${(cp.startupMs / 1000).toFixed(1)}s)
  admin kubeconfig:  ${rel(kubeconfig)}   (user admin, group system:masters)
  try:               bin/kubectl --kubeconfig ${rel(kubeconfig)} get ns
  or:                export KUBECONFIG=${kubeconfig}
  CRDs applied:      ${crds.length ? crds.map((f) => `crds/${f}`).join(', ') : 'none'}
  controllers:       namespace, garbage collector, deployment, replicaset, serviceaccount(+token)
                     (no scheduler or kubelet: Pods stay Pending)
  logs:              ${rel(cp.logDir)}/
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

await main();
