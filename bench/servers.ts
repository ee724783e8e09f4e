// The processes a benchmark runs against, each started the way it runs for users: the fake Ollama,
// `webui serve` through the image's launcher (the shipped bundle and its Node flags); nginx comes from
// test/harness/nginx.ts. Every process logs to a file in the run's directory, as a container
// runtime would take its stdout, so no pipe back into the measuring process competes with the client.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../webui/scripts/build-server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Running {
  url: string;
  proc: ChildProcess;
}

/** Children to stop at the end of a run, in reverse order of start. */
export class Processes {
  readonly list: ChildProcess[] = [];
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  add(proc: ChildProcess): ChildProcess {
    this.list.push(proc);
    return proc;
  }

  async stopAll(): Promise<void> {
    for (const p of [...this.list].reverse())
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all(
      this.list.map((p) =>
        p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once('exit', r)),
      ),
    );
  }

  logFile(name: string): number {
    return openSync(join(this.dir, `${name}.log`), 'a');
  }
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function waitFor(url: string, proc: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The fake Ollama (test/fake-ollama), with the slow model waiting `slowDelayMs` between tokens. */
export async function startFake(ps: Processes, slowDelayMs: number): Promise<Running> {
  const port = await freePort();
  const proc = ps.add(
    spawn(
      process.execPath,
      [
        join(ROOT, 'test/fake-ollama/main.ts'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--no-record',
        '--slow-delay-ms',
        String(slowDelayMs),
      ],
      { stdio: ['ignore', ps.logFile('fake-ollama'), 'inherit'] },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/api/version`, proc, 'the fake Ollama');
  return { url, proc };
}

/** The shipped launcher execs node, so the process id stays the server's own. */
const LAUNCHER = join(ROOT, 'webui/bin/webui-dist');

export type ServerBuild = 'dist' | 'source';

/** The command that runs `webui`: the image's launcher on the bundle (built here first), or the sources. */
export async function webuiCommand(build: ServerBuild): Promise<[string, string[]]> {
  if (build === 'source') return [process.execPath, [join(ROOT, 'webui/bin/webui.ts')]];
  await buildServer();
  return ['/bin/sh', [LAUNCHER]];
}

/** `webui serve --mode <mode>` on a free port, with LOG_LEVEL=info as deployed, waiting for /health. */
export async function startWebui(
  ps: Processes,
  command: [string, string[]],
  mode: 'api' | 'all' | 'frontend',
  env: Record<string, string>,
): Promise<Running> {
  const port = await freePort();
  const [exe, args] = command;
  const proc = ps.add(
    spawn(exe, [...args, 'serve', '--mode', mode], {
      env: {
        // The launcher runs `node` from PATH: the same one as this bench.
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? '',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', ps.logFile(`webui-${mode}-${port}`), 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`, proc, `webui serve --mode ${mode}`);
  return { url, proc };
}

/** The V8 flags the image's launcher runs the server with (webui/bin/webui-dist), for other Node processes to match. */
export function launcherFlags(): string[] {
  const text = readFileSync(LAUNCHER, 'utf8');
  const line = /^exec node (.*) "\$here/m.exec(text)?.[1];
  if (line === undefined) throw new Error(`${LAUNCHER}: no "exec node ..." line`);
  return line.split(/\s+/).filter((f) => f.startsWith('--'));
}

/** bench/node-floor.ts in front of `upstream`, with `flags`: the least a Node hop can add. */
export async function startNodeFloor(ps: Processes, upstream: string, flags: string[]): Promise<Running> {
  const port = await freePort();
  const proc = ps.add(
    spawn(process.execPath, [...flags, join(ROOT, 'bench/node-floor.ts'), upstream, String(port)], {
      stdio: ['ignore', ps.logFile('node-floor'), 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/api/version`, proc, 'the Node floor');
  return { url, proc };
}
