// Overhead benchmark of the /ollama proxy, in one run against the same fake
// Ollama (a child process):
//   1. time to first body byte of a streaming POST /api/chat, directly to the
//      fake and through `webui serve` (/ollama/api/chat with a session token),
//      interleaved; reports p50/p99 of each and the added time;
//   2. N concurrent streaming chats (default 1,000) through the server with the
//      slow model so all are open at once: errors, peak concurrency and the
//      server's peak RSS (VmHWM of its process).
// Targets (issue 3 §11): added TTFB < 1 ms p50 and < 5 ms p99; 1,000 streams
// with 0 errors and < 150 MB RSS.
//
// The server runs as it ships: the bundle (webui/scripts/build-server.ts,
// rebuilt here first) through the image's launcher webui/bin/webui-dist, with
// the Node flags set there. `--server source` runs `node webui/bin/webui.ts`
// (development) instead, for comparison.
//
// Usage: node bench/proxy.ts [--samples 2000] [--streams 1000] [--server dist|source]
//                            [--node-options=...] [--json out.json]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildServer } from '../webui/scripts/build-server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ProxyBenchOptions {
  /** TTFB samples per path (direct and proxied). */
  samples?: number;
  warmup?: number;
  /** Concurrent streaming chats in phase 2. */
  streams?: number;
  /** Delay between tokens of the slow model in phase 2 (default 250 ms: 6 tokens, ~1.25 s, so every stream is open at once). */
  slowTokenDelayMs?: number;
  /** LOG_LEVEL of the server (default info, as deployed). */
  logLevel?: string;
  /** Extra NODE_OPTIONS for the server process, on top of the launcher's flags. */
  nodeOptions?: string;
  /** dist (default): the shipped bundle and launcher; source: `node webui/bin/webui.ts`. */
  server?: 'dist' | 'source';
  log?: (line: string) => void;
}

export interface ProxyBenchResult {
  samples: number;
  /** How the server ran: any extra NODE_OPTIONS and the command line (without `serve --mode api`). */
  serverCommand: string;
  ttfbMs: {
    direct: { p50: number; p99: number };
    proxied: { p50: number; p99: number };
    added: { p50: number; p99: number };
    /** The /ollama router alone (no auth, database or request log), same fake, same run. */
    routerOnly: { p50: number; p99: number; addedP50: number; addedP99: number };
  };
  streams: {
    count: number;
    errors: number;
    errorSamples: string[];
    /** Most streams open at the same moment on the client side. */
    peakConcurrent: number;
    durationMs: number;
  };
  /** VmHWM of the server process after both phases. */
  serverPeakRssMb: number;
  /** VmRSS of the server just before phase 2 (baseline). */
  serverRssBeforeStreamsMb: number;
  targets: { addedP50Ms: number; addedP99Ms: number; streamErrors: number; peakRssMb: number };
  pass: boolean;
}

const TARGETS = { addedP50Ms: 1, addedP99Ms: 5, streamErrors: 0, peakRssMb: 150 };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function startFake(
  slowDelayMs: number,
  children: ChildProcess[],
): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, 'test/fake-ollama/main.ts'),
      '--port',
      '0',
      '--no-record',
      '--slow-delay-ms',
      String(slowDelayMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`fake Ollama exited with ${c}`)));
    proc.stdout?.on('data', (b: Buffer) => {
      const m = /listening on (\S+)/.exec(String(b));
      if (m) resolve(m[1] as string);
    });
  });
  return { url, proc };
}

/** The shipped launcher execs node, so the process id stays the server's own. */
const LAUNCHER = join(ROOT, 'webui/bin/webui-dist');

async function serverCommand(kind: 'dist' | 'source'): Promise<[string, string[]]> {
  if (kind === 'source') return [process.execPath, [join(ROOT, 'webui/bin/webui.ts')]];
  await buildServer();
  return ['/bin/sh', [LAUNCHER]];
}

async function startServer(
  command: [string, string[]],
  env: Record<string, string>,
  dataDir: string,
  children: ChildProcess[],
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const [exe, args] = command;
  const proc = spawn(exe, [...args, 'serve', '--mode', 'api'], {
    env: {
      // The launcher runs `node` from PATH: the same one as this bench.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      WEBUI_SECRET_KEY: 'bench-secret-key-0123456789abcdef',
      FRONTEND_BUILD_DIR: dataDir,
      ...env,
    },
    // Logs go nowhere: a pipe the bench does not drain would stall the server.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(proc);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`webui serve exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${url}/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('webui serve did not become ready within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, proc };
}

async function startRouterOnly(
  ollamaUrl: string,
  children: ChildProcess[],
): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bench/proxy-router-only.ts'), ollamaUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`router-only server exited with ${c}`)));
    proc.stdout?.on('data', (b: Buffer) => {
      const m = /listening on (\S+)/.exec(String(b));
      if (m) resolve(m[1] as string);
    });
  });
  return { url, proc };
}

/** One streaming chat; resolves with ms from request end to the first body byte, after reading it all. */
function timedChat(
  agent: http.Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ ttfbMs: number; text: string; status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      let first: bigint | undefined;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        first ??= process.hrtime.bigint();
        chunks.push(c);
      });
      res.on('end', () =>
        resolve({
          ttfbMs: Number((first ?? process.hrtime.bigint()) - start) / 1e6,
          text: Buffer.concat(chunks).toString(),
          status: res.statusCode ?? 0,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    const start = process.hrtime.bigint();
    req.end(body);
  });
}

export async function runProxyBench(opts: ProxyBenchOptions = {}): Promise<ProxyBenchResult> {
  const samples = opts.samples ?? 2000;
  const warmup = opts.warmup ?? 200;
  const streamCount = opts.streams ?? 1000;
  const log = opts.log ?? (() => {});
  const children: ChildProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'webui-bench-'));
  try {
    const fake = await startFake(opts.slowTokenDelayMs ?? 250, children);
    const routerOnly = await startRouterOnly(fake.url, children);
    const command = await serverCommand(opts.server ?? 'dist');
    const server = await startServer(
      command,
      {
        OLLAMA_BASE_URL: fake.url,
        LOG_LEVEL: opts.logLevel ?? 'info',
        ...(opts.nodeOptions !== undefined ? { NODE_OPTIONS: opts.nodeOptions } : {}),
      },
      dataDir,
      children,
    );
    const signup = await fetch(`${server.url}/api/v1/auths/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: 'bench@example.com', password: 'bench-password-123' }),
    });
    const { token } = (await signup.json()) as { token: string };
    const body = JSON.stringify({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    };
    const proxiedHeaders = { ...headers, authorization: `Bearer ${token}` };

    // Phase 1: TTFB, direct and proxied interleaved on keep-alive connections.
    log(`TTFB: ${warmup} warm-up + ${samples} samples per path`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const direct: number[] = [];
    const proxied: number[] = [];
    const bare: number[] = [];
    const bareHeaders = { ...headers, 'x-test-role': 'user' };
    for (let i = 0; i < warmup + samples; i++) {
      const d = await timedChat(agent, `${fake.url}/api/chat`, headers, body);
      const p = await timedChat(agent, `${server.url}/ollama/api/chat`, proxiedHeaders, body);
      const r = await timedChat(agent, `${routerOnly.url}/ollama/api/chat`, bareHeaders, body);
      for (const x of [p, r]) {
        if (x.status !== 200 || !x.text.includes('"done":true'))
          throw new Error(`proxied chat failed: ${x.status} ${x.text}`);
      }
      if (i >= warmup) {
        direct.push(d.ttfbMs);
        proxied.push(p.ttfbMs);
        bare.push(r.ttfbMs);
      }
    }
    agent.destroy();
    for (const a of [direct, proxied, bare]) a.sort((x, y) => x - y);
    const ttfb = {
      direct: { p50: round(percentile(direct, 50)), p99: round(percentile(direct, 99)) },
      proxied: { p50: round(percentile(proxied, 50)), p99: round(percentile(proxied, 99)) },
      added: {
        p50: round(percentile(proxied, 50) - percentile(direct, 50)),
        p99: round(percentile(proxied, 99) - percentile(direct, 99)),
      },
      routerOnly: {
        p50: round(percentile(bare, 50)),
        p99: round(percentile(bare, 99)),
        addedP50: round(percentile(bare, 50) - percentile(direct, 50)),
        addedP99: round(percentile(bare, 99) - percentile(direct, 99)),
      },
    };
    log(`TTFB ms: ${JSON.stringify(ttfb)}`);

    // Phase 2: concurrent streams through the server.
    const pid = server.proc.pid as number;
    const rssBefore = memoryMb(pid, 'VmRSS');
    log(`${streamCount} concurrent streams (server RSS before: ${rssBefore.toFixed(1)} MB)`);
    const slowBody = JSON.stringify({
      model: 'slow',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const streamAgent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    let open = 0;
    let peakConcurrent = 0;
    const errors: string[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from(
        { length: streamCount },
        () =>
          new Promise<void>((resolve) => {
            const req = http.request(
              `${server.url}/ollama/api/chat`,
              {
                method: 'POST',
                agent: streamAgent,
                headers: { ...proxiedHeaders, 'content-length': String(Buffer.byteLength(slowBody)) },
              },
              (res) => {
                open++;
                peakConcurrent = Math.max(peakConcurrent, open);
                let text = '';
                res.setEncoding('utf8');
                res.on('data', (c: string) => {
                  text += c;
                });
                res.on('end', () => {
                  open--;
                  const last = text.trim().split('\n').at(-1) ?? '';
                  if (res.statusCode !== 200) errors.push(`status ${res.statusCode}: ${text.slice(0, 200)}`);
                  else if (text.includes('"error"') || !last.includes('"done":true'))
                    errors.push(`bad stream end: ${last.slice(0, 200)}`);
                  resolve();
                });
                res.on('error', (e) => {
                  open--;
                  errors.push(`response error: ${e.message}`);
                  resolve();
                });
              },
            );
            req.on('error', (e) => {
              errors.push(`request error: ${e.message}`);
              resolve();
            });
            req.end(slowBody);
          }),
      ),
    );
    const durationMs = Date.now() - started;
    streamAgent.destroy();
    const peakRss = memoryMb(pid, 'VmHWM');
    log(
      `streams done in ${durationMs} ms: ${errors.length} errors, peak concurrent ${peakConcurrent}, server peak RSS ${peakRss.toFixed(1)} MB`,
    );

    const result: ProxyBenchResult = {
      samples,
      serverCommand: [
        ...(opts.nodeOptions !== undefined ? [`NODE_OPTIONS=${opts.nodeOptions}`] : []),
        command[0] === process.execPath ? 'node' : command[0],
        ...command[1].map((a) => a.replace(ROOT, '')),
      ].join(' '),
      ttfbMs: ttfb,
      streams: {
        count: streamCount,
        errors: errors.length,
        errorSamples: errors.slice(0, 5),
        peakConcurrent,
        durationMs,
      },
      serverPeakRssMb: Math.round(peakRss * 10) / 10,
      serverRssBeforeStreamsMb: Math.round(rssBefore * 10) / 10,
      targets: TARGETS,
      pass:
        ttfb.added.p50 < TARGETS.addedP50Ms &&
        ttfb.added.p99 < TARGETS.addedP99Ms &&
        errors.length === TARGETS.streamErrors &&
        peakRss < TARGETS.peakRssMb,
    };
    return result;
  } finally {
    for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all(
      children.map((p) =>
        p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once('exit', r)),
      ),
    );
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A Markdown section for docs/benchmarks.md. */
export function formatProxyBench(r: ProxyBenchResult): string {
  const ok = (b: boolean) => (b ? 'yes' : '**no**');
  return [
    `Server: \`${r.serverCommand} serve --mode api\`, LOG_LEVEL=info.`,
    '',
    '| Measure | Result | Target | Met |',
    '|---|---|---|---|',
    `| TTFB direct to fake Ollama p50 / p99 | ${r.ttfbMs.direct.p50} / ${r.ttfbMs.direct.p99} ms | | |`,
    `| TTFB through webui /ollama p50 / p99 | ${r.ttfbMs.proxied.p50} / ${r.ttfbMs.proxied.p99} ms | | |`,
    `| TTFB through the /ollama router alone (no auth, DB, request log) p50 / p99 | ${r.ttfbMs.routerOnly.p50} / ${r.ttfbMs.routerOnly.p99} ms (added ${r.ttfbMs.routerOnly.addedP50} / ${r.ttfbMs.routerOnly.addedP99} ms) | | |`,
    `| Added TTFB p50 | ${r.ttfbMs.added.p50} ms | < ${r.targets.addedP50Ms} ms | ${ok(r.ttfbMs.added.p50 < r.targets.addedP50Ms)} |`,
    `| Added TTFB p99 | ${r.ttfbMs.added.p99} ms | < ${r.targets.addedP99Ms} ms | ${ok(r.ttfbMs.added.p99 < r.targets.addedP99Ms)} |`,
    `| ${r.streams.count} concurrent streams: errors | ${r.streams.errors} (peak ${r.streams.peakConcurrent} open, ${r.streams.durationMs} ms) | 0 | ${ok(r.streams.errors === 0)} |`,
    `| Server peak RSS (VmHWM) | ${r.serverPeakRssMb} MB (${r.serverRssBeforeStreamsMb} MB before the streams) | < ${r.targets.peakRssMb} MB | ${ok(r.serverPeakRssMb < r.targets.peakRssMb)} |`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: '2000' },
      streams: { type: 'string', default: '1000' },
      'log-level': { type: 'string', default: 'info' },
      'node-options': { type: 'string' },
      server: { type: 'string', default: 'dist' },
      json: { type: 'string' },
    },
  });
  const result = await runProxyBench({
    samples: Number(values.samples),
    streams: Number(values.streams),
    logLevel: values['log-level'],
    server: values.server === 'source' ? 'source' : 'dist',
    ...(values['node-options'] !== undefined ? { nodeOptions: values['node-options'] } : {}),
    log: (l) => console.error(l),
  });
  console.log(formatProxyBench(result));
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.pass ? 0 : 1;
}
