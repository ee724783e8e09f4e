// Child processes of the control plane: each runs in its own process group
// with output going to a log file, and every group still alive is killed when
// this Node process exits, so a crashed or interrupted test run leaves nothing
// behind on a shared machine. Our multi-call binary also watches its parent
// (K8S_ENVTEST_EXIT_WITH_PARENT) for the one case no hook covers: SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Set once the process has exited. */
  exitInfo: ExitInfo | undefined;
  exited: Promise<ExitInfo>;
  /** SIGTERM to the group, SIGKILL after graceMs; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const liveGroups = new Set<number>();
const exitCleanups = new Set<() => void>();
let hooksInstalled = false;

/** Runs fn (synchronously) at process exit, after the process groups were killed. Returns an unregister function. */
export function registerExitCleanup(fn: () => void): () => void {
  installExitHooks();
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

function runExitCleanups(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  for (const fn of exitCleanups) {
    try {
      fn();
    } catch {
      // Best effort while exiting.
    }
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', runExitCleanups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // Someone else (dev-cluster, a test runner) handles the signal and
      // will stop us properly; the 'exit' hook is the backstop.
      if (process.listenerCount(signal) > 1) return;
      runExitCleanups();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal); // default action: terminate
    };
    process.on(signal, onSignal);
  }
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  opts: { logPath: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  installExitHooks();
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      detached: true, // own process group: one kill reaches everything it started
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...opts.env, K8S_ENVTEST_EXIT_WITH_PARENT: '1' },
    });
  } finally {
    closeSync(fd);
  }
  // A forgotten stop() must not keep the test runner alive; the exit hook cleans up.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  liveGroups.add(pid);

  const proc: ManagedProcess = {
    name,
    pid,
    logPath: opts.logPath,
    exitInfo: undefined,
    exited: new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        liveGroups.delete(pid);
        proc.exitInfo = { code, signal };
        resolve(proc.exitInfo);
      });
      child.once('error', () => {
        liveGroups.delete(pid);
        proc.exitInfo = { code: null, signal: null };
        resolve(proc.exitInfo);
      });
    }),
    async stop(graceMs = 15_000) {
      if (proc.exitInfo) return;
      child.ref(); // keep Node alive until the exit is seen
      killGroup(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const result = await Promise.race([proc.exited, timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        killGroup(pid, 'SIGKILL');
        await proc.exited;
      }
    },
  };
  return proc;
}

export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
