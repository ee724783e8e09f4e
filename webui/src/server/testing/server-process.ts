/**
 * Test helper: runs the real `node webui/bin/webui.ts serve` on 127.0.0.1 and a
 * free port, with an explicit environment (nothing inherited that could change
 * settings), and waits for /ready. Used by the integration tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../../test/postgres/postgres.ts';

export const WEBUI_BIN = fileURLToPath(new URL('../../../bin/webui.ts', import.meta.url));

/** Only what node needs to run; every setting comes from the test. */
function baseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Parsed JSON log lines from stdout. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  args?: string[];
  /** Node flags and the entry script, instead of the sources' webui/bin/webui.ts (e.g. the bundle). */
  entry?: string[];
  /** Wait for /ready (default), for /health only, or not at all. */
  wait?: 'ready' | 'health' | 'none';
}

export function tempDir(prefix = 'webui-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  const port = await freePort();
  const env = { ...baseEnv(), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...opts.env };
  const proc = spawn(process.execPath, [...(opts.entry ?? [WEBUI_BIN]), ...(opts.args ?? ['serve'])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${env.PORT}`;
  const server: ServerProcess = {
    url,
    port,
    proc,
    output: () => stdout + stderr,
    logs: () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  const wait = opts.wait ?? 'ready';
  if (wait === 'none') return server;
  const probe = wait === 'ready' ? '/ready' : '/health';
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${server.output()}`);
    try {
      const res = await fetch(url + probe);
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`server did not become ${wait}: ${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the CLI to completion (for startup errors) and returns its exit code and output. */
export async function runToExit(
  env: Record<string, string>,
  args: string[] = ['serve'],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [WEBUI_BIN, ...args], {
    env: { ...baseEnv(), HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
