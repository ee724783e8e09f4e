// What a cluster admin waits for, and what the stack costs, on the real one-node cluster
// (test/harness/cluster.ts) with the images built here:
//   - node start: control plane, node Ready, CoreDNS ready;
//   - `kubectl apply` of examples/webui-basic.yaml to Ready=True, and to the first streamed answer
//     (sign-up and a streaming chat through the frontend Service's ClusterIP, polled from the moment
//     of the apply);
//   - a spec change (`kubectl patch` of timeoutSeconds) to a rolled-out backend;
//   - the memory of the cluster with that one WebUI running: RSS of the control plane, the node's
//     agents, containerd's shims and each pod's processes.
//
// Usage: node bench/cluster.ts [--json out.json]   (root; `make dev-images` first)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  condition,
  deployFakeOllama,
  installChart,
  type KubeObject,
  kubeFor,
  patchWebUi,
  REPO_ROOT,
  WebUiClient,
  waitFor,
} from '../test/e2e/kube.ts';
import { type Cluster, startCluster } from '../test/harness/cluster.ts';
import { devImages } from '../test/harness/dev-images.ts';
import { cgroupHierarchies, processesMentioning } from '../test/harness/node/host.ts';

export interface ClusterBenchResult {
  clusterStartMs: number;
  applyToReadyMs: number;
  applyToFirstAnswerMs: number;
  specChangeToRolledOutMs: number;
  memoryMb: { group: string; rssMb: number }[];
}

const NS = 'webui';

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Every pid in a cgroup tree (v1 memory hierarchy, or the v2 root). */
function pidsUnder(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      out.push(...readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
      }
    } catch {
      // gone
    }
  };
  walk(dir);
  return out;
}

/** RSS by role: control plane, node agents, shims, and each pod (its processes, found by cgroup). */
export function clusterMemory(
  cluster: Cluster,
  podNames: Map<string, string>,
): { group: string; rssMb: number }[] {
  const groups = new Map<string, number>();
  const add = (g: string, kb: number) => groups.set(g, (groups.get(g) ?? 0) + kb);
  const counted = new Set<number>();
  const hierarchy = cgroupHierarchies().find((h) => h.endsWith('/memory')) ?? cgroupHierarchies()[0] ?? '';
  const kubepods = join(hierarchy, 'webui-dev-node', 'kubepods');
  for (const [uid, name] of podNames) {
    const dirs = [
      join(kubepods, `pod${uid}`),
      join(kubepods, 'burstable', `pod${uid}`),
      join(kubepods, 'besteffort', `pod${uid}`),
    ];
    for (const d of dirs) {
      for (const pid of pidsUnder(d)) {
        if (counted.has(pid)) continue;
        counted.add(pid);
        add(`pod ${name}`, rssKb(pid));
      }
    }
  }
  for (const pid of processesMentioning(cluster.root)) {
    if (counted.has(pid)) continue;
    counted.add(pid);
    // The component is the program's name (the multi-call binary runs under symlinks named like them).
    const name = cmdline(pid).split(' ')[0]?.split('/').pop() ?? '';
    add(name === 'containerd-shim-runc-v2' ? 'containerd shims (one per pod)' : name, rssKb(pid));
  }
  return [...groups.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([group, kb]) => ({ group, rssMb: Math.round(kb / 102.4) / 10 }));
}

export async function runClusterBench(log: (line: string) => void): Promise<ClusterBenchResult> {
  const images = await devImages(log);
  const cluster = await startCluster({ images: images.map((i) => i.archive), log });
  try {
    const kube = kubeFor(cluster.cp.kubeconfigPath);
    deployFakeOllama(kube);
    installChart(kube, NS);

    log('kubectl apply examples/webui-basic.yaml');
    const applied = Date.now();
    kube.kubectl(['-n', NS, 'apply', '-f', join(REPO_ROOT, 'examples', 'webui-basic.yaml')]);
    let readyAt = 0;
    const readyWatch = waitFor(
      'Ready',
      () => {
        const w = kube.json<KubeObject>(['-n', NS, 'get', 'webui/chat']);
        if (condition(w, 'Ready')?.status !== 'True') return undefined;
        readyAt = Date.now();
        return readyAt;
      },
      { intervalMs: 200, timeoutMs: 300_000 },
    );
    const clusterIp = await waitFor(
      'the frontend Service',
      () => {
        try {
          return kube.json<{ spec: { clusterIP: string } }>(['-n', NS, 'get', 'service/chat-frontend']).spec
            .clusterIP;
        } catch {
          return undefined;
        }
      },
      { intervalMs: 100 },
    );
    const client = new WebUiClient(`http://${clusterIp}`);
    const token = await waitFor(
      'sign-up through the frontend',
      async () => {
        const r = await client
          .signup('Admin', 'admin@example.com', 'bench-Adm1n-passw0rd')
          .catch(() => undefined);
        return r?.status === 200 ? (r.json as { token: string }).token : undefined;
      },
      { intervalMs: 100, timeoutMs: 300_000 },
    );
    const chatStarted = Date.now();
    const chat = await client.chatStream(token, 'llama3.2:latest', 'first answer');
    if (chat.status !== 200 || chat.firstLineMs < 0) throw new Error(`chat failed: ${chat.status}`);
    const applyToFirstAnswerMs = chatStarted - applied + chat.firstLineMs;
    await readyWatch;

    log('kubectl patch timeoutSeconds');
    type Deployment = KubeObject & {
      metadata: { generation: number };
      status: {
        observedGeneration?: number;
        updatedReplicas?: number;
        availableReplicas?: number;
        replicas?: number;
      };
    };
    const backend = () => kube.json<Deployment>(['-n', NS, 'get', 'deployment/chat-backend']);
    const generationBefore = backend().metadata.generation;
    const patched = Date.now();
    patchWebUi(kube, NS, 'chat', { ollama: { timeoutSeconds: 600 } });
    // Rolled out: the operator changed the template, the Deployment controller saw it, and only the
    // new pod is left and available.
    await waitFor(
      'the backend rollout',
      () => {
        const d = backend();
        return (
          d.metadata.generation > generationBefore &&
          d.status.observedGeneration === d.metadata.generation &&
          d.status.updatedReplicas === 1 &&
          d.status.availableReplicas === 1 &&
          d.status.replicas === 1
        );
      },
      { intervalMs: 100, timeoutMs: 300_000 },
    );
    const specChangeToRolledOutMs = Date.now() - patched;

    // Let the rolled pods settle before reading memory.
    await new Promise((r) => setTimeout(r, 10_000));
    const pods = kube.json<{ items: KubeObject[] }>(['get', 'pods', '-A']).items;
    // cgroupfs names a pod's cgroup pod<uid>; label it with its Deployment's name.
    const names = new Map(
      pods.map((p) => [
        p.metadata.uid,
        `${p.metadata.namespace}/${p.metadata.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '')}`,
      ]),
    );
    return {
      clusterStartMs: cluster.startupMs,
      applyToReadyMs: readyAt - applied,
      applyToFirstAnswerMs,
      specChangeToRolledOutMs,
      memoryMb: clusterMemory(cluster, names),
    };
  } finally {
    await cluster.stop();
  }
}

export function formatClusterBench(r: ClusterBenchResult): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const total = r.memoryMb.reduce((sum, g) => sum + g.rssMb, 0);
  return [
    '| step | time |',
    '| --- | --- |',
    `| node start (control plane, node Ready, CoreDNS ready) | ${s(r.clusterStartMs)} |`,
    `| \`kubectl apply\` of examples/webui-basic.yaml → \`Ready=True\` | ${s(r.applyToReadyMs)} |`,
    `| \`kubectl apply\` → first streamed answer (sign-up, then a streaming chat through the frontend ClusterIP) | ${s(r.applyToFirstAnswerMs)} |`,
    `| \`kubectl patch\` of \`timeoutSeconds\` → backend rolled out (new pod available) | ${s(r.specChangeToRolledOutMs)} |`,
    '',
    'Memory with that one WebUI running (RSS; pods by their cgroup):',
    '',
    '| part | RSS |',
    '| --- | --- |',
    ...r.memoryMb.map((g) => `| ${g.group} | ${g.rssMb.toFixed(1)} MB |`),
    `| **total** | **${total.toFixed(1)} MB** |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { json: { type: 'string' } } });
  const r = await runClusterBench((l) => console.error(`[cluster] ${l}`));
  console.log(formatClusterBench(r));
  if (values.json) writeFileSync(values.json, JSON.stringify(r, null, 2));
}
