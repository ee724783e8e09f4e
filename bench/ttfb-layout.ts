// Time to first byte on the layouts users get, with a plain client: node:http, one keep-alive socket
// per target, a streaming `POST /api/chat` with a JSON body, timed from `req.end()` to the first body
// byte. Targets, interleaved sample by sample: the fake Ollama directly, `webui serve --mode api`, and
// a `--mode frontend` forwarder in front of that backend (the operator's layout). Prints a Markdown
// table of p50/p99 and the time each adds over the direct call. Groundwork for issue 16 (no nginx floor yet).
//
// Usage: node bench/ttfb-layout.ts [--samples 1000] [--warmup 200]
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ServerProcess, spawnServer, tempDir } from '../webui/src/server/testing/server-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { samples: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '200' } },
});
const samples = Number(values.samples);
const warmup = Number(values.warmup);

function startFake(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['test/fake-ollama/main.ts', '--port', '0', '--no-record'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    proc.stdout?.on('data', (b: Buffer) => {
      const m = /fake-ollama listening on (\S+)/.exec(b.toString());
      if (m?.[1]) resolve({ url: m[1].replace(/\/$/, ''), proc });
    });
    proc.once('exit', (code) => reject(new Error(`fake Ollama exited with ${code}`)));
  });
}

const BODY = JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true });

/** Milliseconds from the end of the request to the first byte of the answer; the body is read to its end. */
function ttfb(url: string, agent: http.Agent, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(BODY),
    };
    if (token) headers.authorization = `Bearer ${token}`;
    let start = 0n;
    let first = 0n;
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      res.once('data', () => {
        first = process.hrtime.bigint();
      });
      res.resume();
      res.on('end', () => resolve(Number(first - start) / 1e6));
    });
    req.on('error', reject);
    req.end(BODY);
    start = process.hrtime.bigint();
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};

const fake = await startFake();
const data = tempDir('webui-ttfb-');
const servers: ServerProcess[] = [];
try {
  const api = await spawnServer({
    args: ['serve', '--mode', 'api'],
    env: {
      DATA_DIR: data.dir,
      FRONTEND_BUILD_DIR: data.dir,
      OLLAMA_BASE_URL: fake.url,
      WEBUI_SECRET_KEY: 'ttfb-bench-secret-0123456789abcdef01',
    },
  });
  servers.push(api);
  const frontend = await spawnServer({
    args: ['serve', '--mode', 'frontend'],
    env: { BACKEND_URL: api.url, FRONTEND_BUILD_DIR: data.dir },
    wait: 'health',
  });
  servers.push(frontend);
  const signup = await fetch(`${api.url}/api/v1/auths/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: 'bench@example.com', password: 'ttfb-bench-passw0rd' }),
  });
  const { token } = (await signup.json()) as { token: string };
  const targets = [
    { name: 'direct to the fake Ollama', url: `${fake.url}/api/chat`, token: undefined },
    { name: '`webui serve --mode api`', url: `${api.url}/ollama/api/chat`, token },
    {
      name: 'frontend forwarder → backend (the operator’s layout)',
      url: `${frontend.url}/ollama/api/chat`,
      token,
    },
  ].map((t) => ({ ...t, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), ms: [] as number[] }));
  for (let i = 0; i < warmup + samples; i++) {
    for (const t of targets) {
      const ms = await ttfb(t.url, t.agent, t.token);
      if (i >= warmup) t.ms.push(ms);
    }
  }
  const [direct] = targets;
  const d50 = pct(direct?.ms ?? [], 0.5);
  const d99 = pct(direct?.ms ?? [], 0.99);
  console.log(`Command: \`node bench/ttfb-layout.ts --samples ${samples} --warmup ${warmup}\`\n`);
  console.log('| target | p50 | p99 | added p50 | added p99 |\n| --- | --- | --- | --- | --- |');
  for (const t of targets) {
    const p50 = pct(t.ms, 0.5);
    const p99 = pct(t.ms, 0.99);
    const added = t === direct ? '– | –' : `${(p50 - d50).toFixed(2)} ms | ${(p99 - d99).toFixed(2)} ms`;
    console.log(`| ${t.name} | ${p50.toFixed(2)} ms | ${p99.toFixed(2)} ms | ${added} |`);
  }
} finally {
  for (const s of servers.reverse()) await s.stop();
  fake.proc.kill();
  data.remove();
}
