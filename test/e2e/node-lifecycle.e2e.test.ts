/**
 * The node's promise to the machine: whatever happens to the process that started it, every host
 * change is undone. `make dev-cluster` is started as a child and killed with SIGKILL (no exit hook
 * runs): the reaper must put the host back. Then the reaper is killed too: the next start must clean
 * up what was left and work. Compared with a snapshot of the host taken before anything started.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/binaries.ts';
import { type Cluster, DEFAULT_NODE_ROOT, startCluster } from '../harness/cluster.ts';
import { devImages } from '../harness/dev-images.ts';
import { journalPath, processesMentioning, readJournal } from '../harness/node/host.ts';
import { type HostSnapshot, hostSnapshot } from '../harness/node/snapshot.ts';
import { waitFor } from './kube.ts';

const root = process.env.WEBUI_DEV_NODE_ROOT ?? DEFAULT_NODE_ROOT;
const CGROUP = 'webui-dev-node';
let before: HostSnapshot;
let archives: string[] = [];
const children: ChildProcess[] = [];

/** `make dev-cluster`'s program as a child; resolves once it says the cluster is up. */
function startDevCluster(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'test', 'harness', 'dev-cluster.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DEV_CLUSTER_KUBECONFIG: join(mkdtempSync(join(tmpdir(), 'webui-e2e-')), 'kubeconfig'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`dev-cluster did not come up in 300 s:\n${out}`)),
      300_000,
    );
    const onData = (d: Buffer) => {
      out += String(d);
      if (/dev-cluster: Kubernetes \S+ is up at/.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dev-cluster exited (${code ?? signal}) before it was up:\n${out}`));
    });
  });
}

/** The reaper process of the running node (its command line names reaper.ts; its env names the root). */
function reaperPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('node/reaper.ts') &&
          readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`WEBUI_DEV_NODE_ROOT=${root}`)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

const bridgeExists = () => spawnSync('ip', ['link', 'show', 'webui-cni0'], { stdio: 'ignore' }).status === 0;

beforeAll(async () => {
  before = hostSnapshot(root, CGROUP);
  archives = (await devImages()).map((i) => i.archive);
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('the node puts the machine back', () => {
  it('after a kill -9 of the process that started it (the reaper undoes everything)', async () => {
    const child = await startDevCluster();
    expect(processesMentioning(root).length).toBeGreaterThan(0);
    expect(bridgeExists()).toBe(true);
    expect(reaperPids()).toHaveLength(1);
    child.kill('SIGKILL');
    await waitFor(
      'the reaper to finish',
      () => !existsSync(journalPath(root)) && processesMentioning(root).length === 0,
      {
        timeoutMs: 120_000,
        explain: () => readFileSync('/tmp/webui-dev-node-reaper.log', 'utf8').slice(-2000),
      },
    );
    expect(hostSnapshot(root, CGROUP)).toEqual(before);
  });

  it('when the reaper dies as well, the next start cleans up what was left, then works and stops clean', async () => {
    const child = await startDevCluster();
    for (const pid of reaperPids()) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
    // Left behind: the journal, containerd with its shims and containers, the bridge.
    await new Promise((r) => setTimeout(r, 3000));
    expect(readJournal(root)).toBeDefined();
    expect(processesMentioning(root).length).toBeGreaterThan(0);
    expect(bridgeExists()).toBe(true);

    const lines: string[] = [];
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster({ images: archives, log: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(/cleaned up after a node that did not stop/);
      const nodes = cluster.kubectl([
        'get',
        'nodes',
        '-o',
        'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
      ]);
      expect(nodes).toBe('True');
    } finally {
      await cluster?.stop();
    }
    expect(hostSnapshot(root, CGROUP)).toEqual(before);
  });
});
