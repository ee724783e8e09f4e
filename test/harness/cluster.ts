// A real one-node Kubernetes cluster on this machine: the control plane of control-plane.ts started
// with `network`, plus a worker node (containerd, runc, the CNI bridge, the kubelet, kube-proxy),
// CoreDNS in the cluster and a default StorageClass. `make dev-cluster` and the end-to-end suite use it.
//
// Network rules (hard limits): pods in 198.18.0.0/17, Services in 198.18.128.0/17, pods get one route
// (198.18.0.0/16) and no default route, nothing is masqueraded. Every host change is journaled first
// and undone on stop, by the reaper when this process dies, or at the next start. One node per machine:
// its root is a fixed directory (WEBUI_DEV_NODE_ROOT, default /var/lib/webui-dev-node).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DEV_IMAGE_REFS } from '../../scripts/build-images.ts';
import { REPO_BIN } from './binaries.ts';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import {
  DEFAULT_NETWORK,
  type NodeLayout,
  paths,
  renderCoreDnsManifests,
  renderStorageClass,
  STORAGE_CLASS,
} from './node/config.ts';
import {
  type HostJournal,
  isOwnerAlive,
  processStartTime,
  readJournal,
  recordHost,
  undoHostChanges,
  writeJournal,
} from './node/host.ts';
import {
  CNI_BIN_DIRS,
  nodeBinaries,
  nodePrerequisiteProblems,
  type RunningNode,
  startNode,
} from './node/node.ts';
import { startProvisioner } from './node/provisioner.ts';
import { freePorts, get, sleep } from './probe.ts';

export const DEFAULT_NODE_ROOT = '/var/lib/webui-dev-node';
export const NODE_NAME = 'dev-node';
export const PAUSE_IMAGE = DEV_IMAGE_REFS.pause;
export const COREDNS_IMAGE = DEV_IMAGE_REFS.coredns;

export interface ClusterOptions {
  /** OCI/Docker archives to import into the node before it starts: must hold PAUSE_IMAGE and COREDNS_IMAGE. */
  images: string[];
  root?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
  /** kube-apiserver's port (default: a free one). */
  apiPort?: number;
}

export interface Cluster {
  cp: ControlPlane;
  node: RunningNode;
  nodeName: string;
  hostIp: string;
  root: string;
  /** bin/kubectl with the admin kubeconfig; throws with its output when it fails. */
  kubectl(args: string[], input?: string): string;
  importImages(archives: string[]): void;
  /** Milliseconds from start to a Ready node with DNS running. */
  startupMs: number;
  stop(): Promise<void>;
}

/** The address of the interface that holds the default route (from `ip -j route` / `ip -j addr`). */
export function hostIpFrom(
  routes: { dst?: string; dev?: string; prefsrc?: string }[],
  addrs: { ifname?: string; addr_info?: { family?: string; local?: string }[] }[],
): string {
  const route = routes.find((r) => r.dst === 'default');
  if (route?.prefsrc) return route.prefsrc;
  const local = addrs
    .find((a) => a.ifname === route?.dev)
    ?.addr_info?.find((i) => i.family === 'inet')?.local;
  if (!local)
    throw new Error(
      "dev cluster: cannot tell the machine's address (no IPv4 address on the default route's interface)",
    );
  return local;
}

function detectHostIp(): string {
  const json = (args: string[]) =>
    JSON.parse(spawnSync('ip', ['-j', ...args], { encoding: 'utf8' }).stdout || '[]');
  return hostIpFrom(json(['route', 'show', 'default']), json(['-4', 'addr', 'show']));
}

/** Undoes what a previous node left behind; refuses when that node is still running. */
export function cleanUpPreviousNode(root: string, log: (line: string) => void): void {
  const previous = readJournal(root);
  if (previous) {
    if (isOwnerAlive(previous.owner)) {
      throw new Error(
        `dev cluster: a node is already running on this machine (pid ${previous.owner.pid}, state ${root}); stop it first`,
      );
    }
    const report = undoHostChanges(previous);
    log(
      `cleaned up after a node that did not stop (pid ${previous.owner.pid}): killed ${report.killed} processes`,
    );
    if (report.errors.length)
      throw new Error(`dev cluster: could not clean up ${root}: ${report.errors.join('; ')}`);
  } else if (existsSync(root)) {
    rmSync(root, { recursive: true, force: true });
  }
}

const REAPER = join(fileURLToPath(new URL('.', import.meta.url)), 'node', 'reaper.ts');

function startReaper(root: string): void {
  const logFd = openSync('/tmp/webui-dev-node-reaper.log', 'a');
  try {
    const child = spawn(process.execPath, [REAPER], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, WEBUI_DEV_NODE_ROOT: root },
    });
    child.unref();
  } finally {
    closeSync(logFd);
  }
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const root = opts.root ?? process.env.WEBUI_DEV_NODE_ROOT ?? DEFAULT_NODE_ROOT;
  const problems = nodePrerequisiteProblems(REPO_BIN);
  if (problems.length) throw new Error(`dev cluster: ${problems.join('; ')}`);
  cleanUpPreviousNode(root, log);

  const hostIp = detectHostIp();
  const [kubeletPort = 0, kubeletHealthzPort = 0, proxyHealthzPort = 0, proxyMetricsPort = 0] =
    await freePorts(4);
  const layout: NodeLayout = {
    root,
    nodeName: NODE_NAME,
    hostIp,
    ...DEFAULT_NETWORK,
    bridge: 'webui-cni0',
    cgroupRoot: 'webui-dev-node',
    cniBinDir: CNI_BIN_DIRS.find((d) => existsSync(join(d, 'bridge'))) ?? CNI_BIN_DIRS[0]!,
    binDir: REPO_BIN,
    pauseImage: PAUSE_IMAGE,
    kubeletPort,
    kubeletHealthzPort,
    proxyHealthzPort,
    proxyMetricsPort,
  };

  // The journal exists before the first change to the host, and the reaper watches it from then on.
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const journal: HostJournal = recordHost({
    owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
    root,
    bridge: layout.bridge,
    cgroupRoot: layout.cgroupRoot,
  });
  writeJournal(journal);
  startReaper(root);

  let cp: ControlPlane | undefined;
  let node: RunningNode | undefined;
  let provisioner: { stop(): Promise<void> } | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await provisioner?.stop();
      await node?.stop();
      await cp?.stop();
      const report = undoHostChanges(journal);
      if (report.errors.length) throw new Error(`dev cluster: cleanup problems: ${report.errors.join('; ')}`);
    })();
    return stopped;
  };

  try {
    log('starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)');
    cp = await startControlPlane({
      dir: join(root, 'control-plane'),
      network: { hostIp, podCidr: layout.podCidr, serviceCidr: layout.serviceCidr },
      ...(opts.timeoutMs ? { startTimeoutMs: opts.timeoutMs } : {}),
      ...(opts.apiPort !== undefined ? { apiPort: opts.apiPort } : {}),
    });
    log(`control plane up at ${cp.server}; starting the node (containerd, kubelet, kube-proxy)`);
    node = await startNode({
      cp,
      layout,
      binaries: nodeBinaries(REPO_BIN),
      journal,
      images: opts.images,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    const kubeconfigPath = cp.kubeconfigPath;
    const kubectl = (args: string[], input?: string) => {
      const r = spawnSync(join(REPO_BIN, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
        encoding: 'utf8',
        input,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000,
      });
      if (r.status !== 0)
        throw new Error(
          `kubectl ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr}${r.stdout}`,
        );
      return r.stdout;
    };
    log('node Ready; deploying CoreDNS and the default StorageClass');
    const addons = [...renderCoreDnsManifests(layout, COREDNS_IMAGE), renderStorageClass()];
    kubectl(
      ['apply', '--server-side', '--field-manager=dev-cluster', '-f', '-'],
      addons.map((o) => stringify(o)).join('---\n'),
    );
    provisioner = startProvisioner(
      {
        server: cp.server,
        tls: cp.adminTls,
        storageClass: STORAGE_CLASS,
        nodeName: NODE_NAME,
        volumeDir: paths(layout).volumes,
      },
      log,
    );
    const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
    for (;;) {
      const r = await get(
        `${cp.server}/apis/apps/v1/namespaces/kube-system/deployments/coredns`,
        cp.adminTls,
      );
      const ready =
        r.status === 200 &&
        ((JSON.parse(r.body) as { status?: { readyReplicas?: number } }).status?.readyReplicas ?? 0) >= 1;
      if (ready) break;
      if (Date.now() > deadline) {
        const describe = kubectl(['-n', 'kube-system', 'describe', 'pods', '-l', 'k8s-app=kube-dns']);
        let logs = '';
        try {
          logs = kubectl(['-n', 'kube-system', 'logs', '-l', 'k8s-app=kube-dns', '--previous', '--tail=30']);
        } catch (err) {
          logs = String(err);
        }
        throw new Error(`dev cluster: CoreDNS did not become ready:\n${describe}\n--- logs ---\n${logs}`);
      }
      await sleep(250);
    }
    const readyNode = node;
    const readyCp = cp;
    return {
      cp: readyCp,
      node: readyNode,
      nodeName: NODE_NAME,
      hostIp,
      root,
      kubectl,
      importImages: (archives) => readyNode.importImages(archives),
      startupMs: Date.now() - started,
      stop,
    };
  } catch (err) {
    await stop().catch((cleanupErr: unknown) => log(String(cleanupErr)));
    throw err;
  }
}
