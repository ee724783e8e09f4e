// A real worker node on this machine: containerd + runc + the CNI bridge, the kubelet and kube-proxy,
// registered with a control plane started with `network` (../control-plane.ts). Used through
// cluster.ts. See docs/testing.md ("The real node") for the network rules and the cleanup.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../control-plane.ts';
import { renderKubeconfig } from '../kubeconfig.ts';
import { issueCertificate } from '../pki.ts';
import { get, sleep } from '../probe.ts';
import { logTail, type ManagedProcess, startProcess } from '../process-group.ts';
import {
  type NodeLayout,
  paths,
  renderCniConfig,
  renderContainerdConfig,
  renderKubeletConfig,
  renderKubeProxyConfig,
} from './config.ts';
import { cgroupHierarchies, type HostJournal, processStartTime, writeJournal } from './host.ts';

export interface NodeBinaries {
  containerd: string;
  shim: string;
  ctr: string;
  kubelet: string;
  kubeProxy: string;
}

/** Commands from Debian packages the node runs (`make node-packages` installs them). */
const HOST_COMMANDS = ['runc', 'nft', 'iptables', 'ip6tables', 'iptables-save', 'ip', 'mount', 'umount'];
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback'];
export const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

const executable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export function findOnPath(cmd: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (dir && executable(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** Every prerequisite of the node, as one-line problems naming the fix (empty: ready to start). */
export function nodePrerequisiteProblems(binDir: string): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push(
      'the real node needs root (it creates a bridge, cgroups and mounts): run as root, or use the control plane alone (DEV_CLUSTER_NODE=0 make dev-cluster)',
    );
  }
  const missingCommands = HOST_COMMANDS.filter((c) => !findOnPath(c));
  if (missingCommands.length) {
    problems.push(
      `missing ${missingCommands.join(', ')}: run \`make node-packages\` (Debian: runc nftables iptables iproute2)`,
    );
  }
  const cniDir = CNI_BIN_DIRS.find((d) => CNI_PLUGINS.every((p) => executable(join(d, p))));
  if (!cniDir) {
    problems.push(
      `no CNI plugins (${CNI_PLUGINS.join(', ')}) in ${CNI_BIN_DIRS.join(' or ')}: run \`make node-packages\` (Debian: containernetworking-plugins)`,
    );
  }
  const missingBinaries = ['containerd', 'containerd-shim-runc-v2', 'ctr'].filter(
    (b) => !executable(join(binDir, b)),
  );
  if (missingBinaries.length)
    problems.push(`missing ${missingBinaries.map((b) => `bin/${b}`).join(', ')}: run \`make node-assets\``);
  const missingK8s = ['kubelet', 'kube-proxy', 'kube-scheduler'].filter((b) => !executable(join(binDir, b)));
  if (missingK8s.length)
    problems.push(`missing ${missingK8s.map((b) => `bin/${b}`).join(', ')}: run \`make envtest-assets\``);
  return problems;
}

export function nodeBinaries(binDir: string): NodeBinaries {
  return {
    containerd: join(binDir, 'containerd'),
    shim: join(binDir, 'containerd-shim-runc-v2'),
    ctr: join(binDir, 'ctr'),
    kubelet: join(binDir, 'kubelet'),
    kubeProxy: join(binDir, 'kube-proxy'),
  };
}

export interface RunningNode {
  layout: NodeLayout;
  /** Imports OCI or Docker archives into the node's containerd (namespace k8s.io), pinned so image GC keeps them. */
  importImages(archives: string[]): void;
  /** `ctr` against the node's containerd. */
  ctr(args: string[]): string;
  processes: ManagedProcess[];
  /** Stops kube-proxy, the kubelet and containerd (the host cleanup is the journal's job). */
  stop(): Promise<void>;
}

const childEnv = (binDir: string) => ({
  // containerd looks up its shim on PATH; runc, nft, mount and friends come from Debian.
  PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
});

interface Deadline {
  at: number;
  watch: ManagedProcess[];
}

async function waitFor(what: string, d: Deadline, check: () => Promise<boolean> | boolean): Promise<void> {
  let last = '';
  for (;;) {
    const dead = d.watch.find((p) => p.exitInfo);
    if (dead)
      throw new Error(
        `node: ${dead.name} exited while waiting for ${what}; ${dead.logPath}:\n${logTail(dead.logPath)}`,
      );
    try {
      if (await check()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > d.at) {
      throw new Error(
        `node: timed out waiting for ${what}${last ? ` (${last})` : ''}\n` +
          d.watch.map((p) => `--- ${p.logPath} ---\n${logTail(p.logPath)}`).join('\n'),
      );
    }
    await sleep(200);
  }
}

/** Creates the node's cgroup (pods under it, shims in <root>/shims) in every hierarchy. */
function createCgroups(cgroupRoot: string): void {
  for (const h of cgroupHierarchies()) {
    let parent = h;
    for (const part of [cgroupRoot, 'shims']) {
      const dir = join(parent, part);
      mkdirSync(dir, { recursive: true });
      // A new cgroup v1 cpuset starts with no CPUs and no memory nodes, and refuses tasks
      // ("no space left on device") until it gets its parent's.
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(join(dir, file)))
          writeFileSync(join(dir, file), readFileSync(join(parent, file), 'utf8').trim() || '\n');
      }
      parent = dir;
    }
  }
}

export async function startNode(opts: {
  cp: ControlPlane;
  layout: NodeLayout;
  binaries: NodeBinaries;
  journal: HostJournal;
  images: string[];
  timeoutMs?: number;
  onProcess?: (p: ManagedProcess) => void;
}): Promise<RunningNode> {
  const { cp, layout: l, binaries: b, journal } = opts;
  const p = paths(l);
  const d: Deadline = { at: Date.now() + (opts.timeoutMs ?? 180_000), watch: [] };
  const processes: ManagedProcess[] = [];
  const track = (proc: ManagedProcess) => {
    processes.push(proc);
    d.watch.push(proc);
    journal.processes.push({ name: proc.name, pid: proc.pid, startTime: processStartTime(proc.pid) ?? '' });
    writeJournal(journal);
    opts.onProcess?.(proc);
  };
  const env = childEnv(l.binDir);

  for (const dir of [
    join(l.root, 'containerd'),
    p.logDir,
    join(l.root, 'etc'),
    p.cniConfDir,
    p.cniDataDir,
    p.podLogs,
    p.volumes,
    p.kubeletRoot,
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  createCgroups(l.cgroupRoot);

  // Certificates: the kubelet's client identity (Node authorizer: system:node:<name> in system:nodes),
  // its serving certificate (the API server verifies it for logs, exec and port-forward), kube-proxy's.
  const kubeletClient = issueCertificate(cp.ca, {
    subject: { commonName: `system:node:${l.nodeName}`, organizations: ['system:nodes'] },
    usage: 'client',
  });
  const kubeletServing = issueCertificate(cp.ca, {
    subject: { commonName: l.nodeName },
    usage: 'server',
    hosts: [l.hostIp, l.nodeName],
  });
  const proxyClient = issueCertificate(cp.ca, {
    subject: { commonName: 'system:kube-proxy' },
    usage: 'client',
  });
  const kubeconfig = (c: { certPem: string; keyPem: string }, name: string) =>
    renderKubeconfig({
      server: cp.server,
      caPem: cp.caPem,
      user: { clientCertPem: c.certPem, clientKeyPem: c.keyPem },
      name,
    });
  const files: Record<string, string> = {
    [p.caFile]: cp.caPem,
    [p.kubeletCert]: kubeletServing.certPem,
    [p.kubeletKey]: kubeletServing.keyPem,
    [p.kubeletKubeconfig]: kubeconfig(kubeletClient, 'kubelet'),
    [p.proxyKubeconfig]: kubeconfig(proxyClient, 'kube-proxy'),
    [p.kubeletConfig]: renderKubeletConfig(l),
    [p.proxyConfig]: renderKubeProxyConfig(l),
    [p.containerdConfig]: renderContainerdConfig(l),
  };
  for (const [path, content] of Object.entries(files)) writeFileSync(path, content, { mode: 0o600 });

  const containerd = startProcess('containerd', b.containerd, ['--config', p.containerdConfig], {
    logPath: join(p.logDir, 'containerd.log'),
    env,
  });
  track(containerd);
  const ctr = (args: string[]) => {
    const r = spawnSync(b.ctr, ['--address', p.containerdSocket, '--namespace', 'k8s.io', ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    if (r.status !== 0) throw new Error(`ctr ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  await waitFor('containerd', d, () => {
    if (!existsSync(p.containerdSocket)) return false;
    ctr(['version']);
    return true;
  });

  const importImages = (archives: string[]) => {
    for (const archive of archives) {
      // Pinned images are never garbage-collected by the kubelet: nothing could pull them back.
      ctr(['images', 'import', '--local', '--label', 'io.cri-containerd.pinned=pinned', archive]);
    }
  };
  importImages(opts.images);

  const kubelet = startProcess(
    'kubelet',
    b.kubelet,
    [
      `--config=${p.kubeletConfig}`,
      `--kubeconfig=${p.kubeletKubeconfig}`,
      `--root-dir=${p.kubeletRoot}`,
      `--hostname-override=${l.nodeName}`,
      `--node-ip=${l.hostIp}`,
      '--v=1',
    ],
    { logPath: join(p.logDir, 'kubelet.log'), env },
  );
  track(kubelet);

  // The controller manager gives the node its pod range once it registers; the CNI config follows
  // from it (containerd watches its config dir), and the node turns Ready.
  let nodePodCidr = '';
  await waitFor(`node ${l.nodeName} to register and get a pod range`, d, async () => {
    const r = await get(`${cp.server}/api/v1/nodes/${l.nodeName}`, cp.adminTls);
    if (r.status !== 200) return false;
    nodePodCidr = (JSON.parse(r.body) as { spec?: { podCIDR?: string } }).spec?.podCIDR ?? '';
    return nodePodCidr !== '';
  });
  writeFileSync(join(p.cniConfDir, '10-webui-dev.conflist'), renderCniConfig(l, nodePodCidr));

  const kubeProxy = startProcess('kube-proxy', b.kubeProxy, [`--config=${p.proxyConfig}`, '--v=1'], {
    logPath: join(p.logDir, 'kube-proxy.log'),
    env,
  });
  track(kubeProxy);

  await waitFor(`node ${l.nodeName} Ready`, d, async () => {
    const r = await get(`${cp.server}/api/v1/nodes/${l.nodeName}`, cp.adminTls);
    const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  });
  await waitFor(
    'kube-proxy /healthz',
    d,
    async () => (await get(`http://127.0.0.1:${l.proxyHealthzPort}/healthz`)).status === 200,
  );

  return {
    layout: l,
    importImages,
    ctr,
    processes,
    async stop() {
      await kubeProxy.stop(5000);
      await kubelet.stop(10_000);
      await containerd.stop(10_000);
    },
  };
}
