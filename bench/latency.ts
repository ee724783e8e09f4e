// Proxy latency on the paths users take (issue 16), in one run against one fake Ollama:
//
// 1. Time to first byte of a streaming `POST /api/chat` with a JSON body, through every target,
//    interleaved sample by sample in a rotating order:
//      direct to the fake · nginx in front of it (the floor) · a bare node:http pipe proxy (the
//      least any Node hop adds, bench/node-floor.ts) · `webui serve --mode api` alone ·
//      `--mode all` (what `make run` and a one-pod install run) · and the operator's layout, its
//      processes started with the environment the operator renders (test/harness/rendered-layout.ts):
//        - through its Ingress, served by nginx configured from the rendered Ingress: the API goes
//          straight to the backend (spec.ingress.apiRoute: backend, the default);
//        - the same with apiRoute: frontend: nginx → frontend forwarder → backend;
//        - the frontend Service alone (port-forward, no Ingress): forwarder → backend.
//    Two clients, neither written for these servers: node:http with one keep-alive socket per target
//    (time from `req.end()` to the first body byte), and fetch (undici, Node's own) with its default
//    pool (time from the call to the first chunk read from the body). Each reports p50 and p99, the
//    time added over the direct call, and that added time as a multiple of nginx's.
// 2. N concurrent slow streams (default 200, 50 ms between tokens) through direct, nginx, --mode api
//    and the two layouts without nginx's forwarder hop: errors, wall time, TTFB p50 / p99.
//
// The Node servers run as shipped (the bundle through webui/bin/webui-dist) with LOG_LEVEL=info,
// logging to files. Targets (issue 16), with the node:http client: the operator's layout adds < 1 ms
// p50 and < 3 ms p99 over direct, --mode api alone < 0.5 ms p50.
//
// Usage: node bench/latency.ts [--samples 1000] [--warmup 300] [--streams 200] [--server dist|source]
//                              [--json out.json]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { routesFromIngress, startNginx } from '../test/harness/nginx.ts';
import { renderedLayout } from '../test/harness/rendered-layout.ts';
import {
  launcherFlags,
  Processes,
  type ServerBuild,
  startFake,
  startNodeFloor,
  startWebui,
  webuiCommand,
} from './servers.ts';

export interface LatencyOptions {
  samples?: number;
  warmup?: number;
  streams?: number;
  slowDelayMs?: number;
  server?: ServerBuild;
  log?: (line: string) => void;
}

export type TargetId =
  | 'direct'
  | 'nginx'
  | 'nodeFloor'
  | 'api'
  | 'all'
  | 'ingress'
  | 'ingressViaFrontend'
  | 'service';

export const TARGET_NAMES: Record<TargetId, string> = {
  direct: 'direct to the fake Ollama',
  nginx: 'nginx 1.22 → fake (the floor)',
  nodeFloor: 'bare node:http pipe proxy → fake (the Node floor, launcher flags)',
  api: '`webui serve --mode api` alone',
  all: '`webui serve --mode all` (`make run`)',
  ingress: '**operator’s layout**: Ingress (nginx) → backend (`apiRoute: backend`, the default)',
  ingressViaFrontend: 'Ingress (nginx) → frontend forwarder → backend (`apiRoute: frontend`)',
  service: 'frontend Service alone (port-forward): forwarder → backend',
};

export interface Distribution {
  p50: number;
  p99: number;
}

export interface TargetLatency extends Distribution {
  target: TargetId;
  /** Over the direct call, same client, same run; undefined for direct itself. */
  added?: Distribution;
  /** added p50 / nginx's added p50. */
  timesNginx?: number;
}

export interface StreamsResult {
  target: TargetId;
  count: number;
  errors: number;
  errorSamples: string[];
  wallMs: number;
  ttfb: Distribution;
}

export interface LatencyResult {
  samples: number;
  warmup: number;
  server: ServerBuild;
  clients: { client: 'node:http' | 'fetch'; targets: TargetLatency[] }[];
  streams: StreamsResult[];
  slowDelayMs: number;
  targets: { layoutAddedP50Ms: number; layoutAddedP99Ms: number; apiAddedP50Ms: number };
  pass: boolean;
}

const TARGETS = { layoutAddedP50Ms: 1, layoutAddedP99Ms: 3, apiAddedP50Ms: 0.5 };

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** p50/p99 per target, and what each adds over `direct` and how that compares with nginx's. */
export function summarise(samples: Record<TargetId, number[]>): TargetLatency[] {
  const dist = (xs: number[]): Distribution => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
  const direct = dist(samples.direct);
  const nginx = dist(samples.nginx);
  const nginxAddedP50 = nginx.p50 - direct.p50;
  return (Object.keys(samples) as TargetId[]).map((target) => {
    const d = dist(samples[target]);
    if (target === 'direct') return { target, p50: round3(d.p50), p99: round3(d.p99) };
    const added = { p50: round3(d.p50 - direct.p50), p99: round3(d.p99 - direct.p99) };
    return {
      target,
      p50: round3(d.p50),
      p99: round3(d.p99),
      added,
      timesNginx: nginxAddedP50 > 0 ? Math.round((added.p50 / nginxAddedP50) * 10) / 10 : Number.NaN,
    };
  });
}

const SECRET = 'latency-bench-secret-0123456789abcdef';
const CHAT = JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true });
const SLOW_CHAT = JSON.stringify({
  model: 'slow',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
});

interface Target {
  id: TargetId;
  url: string;
  headers: Record<string, string>;
  agent: http.Agent;
}

/** node:http: ms from `req.end()` to the first body byte; the body is read to its end and checked. */
function httpTtfb(t: Target, body: string, agent = t.agent): Promise<{ ms: number; text: string }> {
  return new Promise((resolve, reject) => {
    let start = 0n;
    let first = 0n;
    const req = http.request(
      t.url,
      {
        method: 'POST',
        agent,
        headers: {
          ...t.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (first === 0n) first = process.hrtime.bigint();
          text += c;
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${t.id}: ${res.statusCode} ${text.slice(0, 200)}`));
          else resolve({ ms: Number(first - start) / 1e6, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
    start = process.hrtime.bigint();
  });
}

/** fetch (undici): ms from the call to the first chunk of the body; the body is read to its end. */
async function fetchTtfb(t: Target, body: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { ...t.headers, 'content-type': 'application/json' },
    body,
  });
  const reader = res.body?.getReader();
  if (reader === undefined) throw new Error(`${t.id}: no body`);
  const first = await reader.read();
  const ms = performance.now() - start;
  if (first.done) throw new Error(`${t.id}: empty body`);
  while (!(await reader.read()).done) {
    // drain
  }
  if (res.status !== 200) throw new Error(`${t.id}: ${res.status}`);
  return ms;
}

async function interleaved(
  targets: Target[],
  rounds: { warmup: number; samples: number },
  one: (t: Target) => Promise<number>,
): Promise<Record<TargetId, number[]>> {
  const out = Object.fromEntries(targets.map((t) => [t.id, [] as number[]])) as Record<TargetId, number[]>;
  for (let i = 0; i < rounds.warmup + rounds.samples; i++) {
    // A rotating order, so that no target always follows the same neighbour.
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(i + k) % targets.length] as Target;
      const ms = await one(t);
      if (i >= rounds.warmup) out[t.id].push(ms);
    }
  }
  return out;
}

/** `count` slow streams at once through one target; each must end with `"done":true` and no error. */
async function concurrentStreams(t: Target, count: number): Promise<StreamsResult> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const errors: string[] = [];
  const ttfbs: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      try {
        const { ms, text } = await httpTtfb(t, SLOW_CHAT, agent);
        const last = text.trim().split('\n').at(-1) ?? '';
        if (text.includes('"error"') || !last.includes('"done":true'))
          errors.push(`bad end: ${last.slice(0, 120)}`);
        else ttfbs.push(ms);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }),
  );
  const wallMs = Math.round(performance.now() - started);
  agent.destroy();
  return {
    target: t.id,
    count,
    errors: errors.length,
    errorSamples: errors.slice(0, 3),
    wallMs,
    ttfb: { p50: round3(percentile(ttfbs, 50)), p99: round3(percentile(ttfbs, 99)) },
  };
}

export async function runLatencyBench(opts: LatencyOptions = {}): Promise<LatencyResult> {
  const samples = opts.samples ?? 1000;
  const warmup = opts.warmup ?? 300;
  const streamCount = opts.streams ?? 200;
  const slowDelayMs = opts.slowDelayMs ?? 50;
  const build = opts.server ?? 'dist';
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'webui-latency-'));
  const ps = new Processes(dir);
  const stoppers: (() => Promise<void>)[] = [];
  try {
    const command = await webuiCommand(build);
    const fake = await startFake(ps, slowDelayMs);
    const floor = await startNginx(join(dir, 'nginx-floor'), [
      { path: '/', pathType: 'Prefix', upstream: fake.url },
    ]);
    stoppers.push(floor.stop);
    const standalone = (name: string) => ({
      DATA_DIR: join(dir, name),
      FRONTEND_BUILD_DIR: join(dir, name),
      OLLAMA_BASE_URL: fake.url,
      WEBUI_SECRET_KEY: SECRET,
    });
    const nodeFloor = await startNodeFloor(ps, fake.url, build === 'dist' ? launcherFlags() : []);
    const api = await startWebui(ps, command, 'api', standalone('api'));
    const all = await startWebui(ps, command, 'all', standalone('all'));

    // The operator's layout, with the environment it renders (its port and data path give way to ours).
    const spec = { ollama: { baseUrl: fake.url }, ingress: { host: 'chat.example.com' } };
    const layout = renderedLayout(spec);
    const viaFrontend = renderedLayout({
      ...spec,
      ingress: { ...spec.ingress, apiRoute: 'frontend' as const },
    });
    const local = ({ PORT: _p, DATA_DIR: _d, ...rest }: Record<string, string>) => rest;
    const backend = await startWebui(ps, command, 'api', {
      ...local(layout.backendEnv),
      DATA_DIR: join(dir, 'layout'),
      WEBUI_SECRET_KEY: SECRET,
    });
    const forwarder = await startWebui(ps, command, 'frontend', {
      ...local(layout.frontendEnv),
      BACKEND_URL: backend.url,
      FRONTEND_BUILD_DIR: join(dir, 'layout'),
    });
    const services = (l: typeof layout) => ({
      [l.services.backend]: backend.url,
      [l.services.frontend]: forwarder.url,
    });
    const ingressOf = (l: typeof layout) => {
      if (l.ingress === undefined) throw new Error('the operator rendered no Ingress');
      return routesFromIngress(l.ingress, services(l));
    };
    const ingress = await startNginx(join(dir, 'nginx-ingress'), ingressOf(layout));
    stoppers.push(ingress.stop);
    const ingressViaFrontend = await startNginx(join(dir, 'nginx-ingress-frontend'), ingressOf(viaFrontend));
    stoppers.push(ingressViaFrontend.stop);

    const tokenFor = async (url: string) => {
      const res = await fetch(`${url}/api/v1/auths/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Bench',
          email: 'bench@example.com',
          password: 'latency-bench-passw0rd',
        }),
      });
      if (!res.ok) throw new Error(`signup at ${url}: ${res.status} ${await res.text()}`);
      return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
    };
    const target = (id: TargetId, base: string, headers: Record<string, string> = {}): Target => ({
      id,
      url: base,
      headers,
      agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    });
    const layoutToken = await tokenFor(backend.url);
    const targets = [
      target('direct', `${fake.url}/api/chat`),
      target('nginx', `${floor.url}/api/chat`),
      target('nodeFloor', `${nodeFloor.url}/ollama/api/chat`),
      target('api', `${api.url}/ollama/api/chat`, await tokenFor(api.url)),
      target('all', `${all.url}/ollama/api/chat`, await tokenFor(all.url)),
      target('ingress', `${ingress.url}/ollama/api/chat`, layoutToken),
      target('ingressViaFrontend', `${ingressViaFrontend.url}/ollama/api/chat`, layoutToken),
      target('service', `${forwarder.url}/ollama/api/chat`, layoutToken),
    ];

    log(`TTFB, node:http: ${warmup} warm-up + ${samples} rounds over ${targets.length} targets`);
    const viaHttp = summarise(
      await interleaved(targets, { warmup, samples }, async (t) => (await httpTtfb(t, CHAT)).ms),
    );
    log(`TTFB, fetch: ${warmup} warm-up + ${samples} rounds`);
    const viaFetch = summarise(await interleaved(targets, { warmup, samples }, (t) => fetchTtfb(t, CHAT)));
    for (const t of targets) t.agent.destroy();

    const streams: StreamsResult[] = [];
    const streamed: TargetId[] = ['direct', 'nginx', 'nodeFloor', 'api', 'ingress', 'service'];
    for (const t of targets.filter((x) => streamed.includes(x.id))) {
      log(`${streamCount} concurrent slow streams (${slowDelayMs} ms between tokens) through ${t.id}`);
      streams.push(await concurrentStreams(t, streamCount));
    }

    const layoutAdded = viaHttp.find((t) => t.target === 'ingress')?.added;
    const apiAdded = viaHttp.find((t) => t.target === 'api')?.added;
    return {
      samples,
      warmup,
      server: build,
      clients: [
        { client: 'node:http', targets: viaHttp },
        { client: 'fetch', targets: viaFetch },
      ],
      streams,
      slowDelayMs,
      targets: TARGETS,
      pass:
        layoutAdded !== undefined &&
        apiAdded !== undefined &&
        layoutAdded.p50 < TARGETS.layoutAddedP50Ms &&
        layoutAdded.p99 < TARGETS.layoutAddedP99Ms &&
        apiAdded.p50 < TARGETS.apiAddedP50Ms &&
        streams.every((s) => s.errors === 0),
    };
  } finally {
    for (const stop of stoppers.reverse()) await stop();
    await ps.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : `${n.toFixed(2)} ms`);

/** Markdown tables for docs/benchmarks.md. */
export function formatLatencyBench(r: LatencyResult): string {
  const ok = (b: boolean) => (b ? 'yes' : '**no**');
  const out: string[] = [];
  for (const c of r.clients) {
    out.push(
      `Client: ${c.client === 'node:http' ? '`node:http`, one keep-alive socket per target, from `req.end()` to the first body byte' : '`fetch` (undici), its default pool, from the call to the first body chunk'}; ${r.samples} rounds after ${r.warmup} of warm-up.`,
      '',
      '| target | p50 | p99 | added p50 | added p99 | added p50 ÷ nginx’s |',
      '| --- | --- | --- | --- | --- | --- |',
      ...c.targets.map(
        (t) =>
          `| ${TARGET_NAMES[t.target]} | ${ms(t.p50)} | ${ms(t.p99)} | ${ms(t.added?.p50)} | ${ms(t.added?.p99)} | ${t.timesNginx === undefined || t.target === 'nginx' ? '–' : `×${t.timesNginx}`} |`,
      ),
      '',
    );
  }
  const http = r.clients[0]?.targets ?? [];
  const layout = http.find((t) => t.target === 'ingress')?.added;
  const api = http.find((t) => t.target === 'api')?.added;
  out.push(
    `Targets (node:http client): the operator's layout adds < ${r.targets.layoutAddedP50Ms} ms p50 (${ms(layout?.p50)}: ${ok((layout?.p50 ?? Infinity) < r.targets.layoutAddedP50Ms)}) and < ${r.targets.layoutAddedP99Ms} ms p99 (${ms(layout?.p99)}: ${ok((layout?.p99 ?? Infinity) < r.targets.layoutAddedP99Ms)}); \`--mode api\` adds < ${r.targets.apiAddedP50Ms} ms p50 (${ms(api?.p50)}: ${ok((api?.p50 ?? Infinity) < r.targets.apiAddedP50Ms)}).`,
    '',
    `${r.streams[0]?.count ?? 0} concurrent streams of the slow model (6 tokens, ${r.slowDelayMs} ms apart), node:http, a new connection each:`,
    '',
    '| target | errors | wall time | TTFB p50 | TTFB p99 |',
    '| --- | --- | --- | --- | --- |',
    ...r.streams.map(
      (s) =>
        `| ${TARGET_NAMES[s.target]} | ${s.errors}${s.errorSamples.length > 0 ? ` (${s.errorSamples.join('; ')})` : ''} | ${s.wallMs} ms | ${ms(s.ttfb.p50)} | ${ms(s.ttfb.p99)} |`,
    ),
  );
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '300' },
      streams: { type: 'string', default: '200' },
      server: { type: 'string', default: 'dist' },
      json: { type: 'string' },
    },
  });
  const result = await runLatencyBench({
    samples: Number(values.samples),
    warmup: Number(values.warmup),
    streams: Number(values.streams),
    server: values.server === 'source' ? 'source' : 'dist',
    log: (l) => console.error(`[latency] ${l}`),
  });
  console.log(
    `Command: \`node bench/latency.ts --samples ${result.samples} --warmup ${result.warmup} --streams ${result.streams[0]?.count ?? 0}${result.server === 'source' ? ' --server source' : ''}\`\n`,
  );
  console.log(formatLatencyBench(result));
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.pass ? 0 : 1;
}
