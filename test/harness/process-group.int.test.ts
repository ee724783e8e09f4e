// The "no leftovers" guarantees of the harness: stop() escalates, process
// groups die with the Node process that started them, and our multi-call
// binary stops by itself when its parent is SIGKILLed (no hook can run then).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinaries } from './binaries.ts';
import { freePorts, sleep } from './probe.ts';
import { logTail, startProcess } from './process-group.ts';

const dir = mkdtempSync(join(tmpdir(), 'process-group-test-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Runs an ES module script in a child Node and returns the first line it prints. */
function runScript(code: string): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: import.meta.dirname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, firstLine: out.slice(0, nl) });
    });
    child.once('exit', (code) => reject(new Error(`script exited (${code}) before printing: ${out}`)));
  });
}

const harness = JSON.stringify(join(import.meta.dirname, 'process-group.ts'));

describe('process groups', () => {
  it('stop() sends SIGTERM, then SIGKILL to a process that ignores it', async () => {
    const log = join(dir, 'stubborn.log');
    const p = startProcess('stubborn', 'bash', ['-c', `trap '' TERM; echo started; sleep 300 & wait`], {
      logPath: log,
    });
    await sleep(300);
    expect(alive(p.pid)).toBe(true);
    await p.stop(500);
    expect(p.exitInfo?.signal).toBe('SIGKILL');
    expect(alive(p.pid)).toBe(false);
    expect(logTail(log)).toBe('started');
  });

  it('kills the whole group (grandchildren too) when the Node process exits', async () => {
    const { child, firstLine } = await runScript(
      `import { startProcess } from ${harness};
       const p = startProcess('sleeper', 'bash', ['-c', 'sleep 300 & echo $! > ${join(dir, 'grandchild.pid')}; wait'], { logPath: ${JSON.stringify(join(dir, 'sleeper.log'))} });
       console.log(p.pid);
       setTimeout(() => process.exit(0), 500);`,
    );
    const pid = Number(firstLine);
    expect(pid).toBeGreaterThan(0);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await waitGone(pid, 5000)).toBe(true);
    const grandchild = Number(readFileSync(join(dir, 'grandchild.pid'), 'utf8'));
    expect(await waitGone(grandchild, 5000)).toBe(true);
  });

  it('k8s-envtest components stop by themselves when their parent is SIGKILLed', async () => {
    // The guard is in our binary (bin/), whatever KUBEBUILDER_ASSETS says.
    const { etcd } = findBinaries({});
    const [client, peer] = await freePorts(2);
    const { child, firstLine } = await runScript(
      `import { startProcess } from ${harness};
       const p = startProcess('etcd', ${JSON.stringify(etcd)}, ['--data-dir=${join(dir, 'etcd')}', '--listen-client-urls=http://127.0.0.1:${client}', '--listen-peer-urls=http://127.0.0.1:${peer}'], { logPath: ${JSON.stringify(join(dir, 'etcd.log'))} });
       console.log(p.pid);
       setInterval(() => {}, 1000);`,
    );
    const pid = Number(firstLine);
    await sleep(500);
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL'); // no exit hook runs
    expect(await waitGone(pid, 20_000)).toBe(true);
    expect(logTail(join(dir, 'etcd.log'))).toContain('parent process');
  });
});
