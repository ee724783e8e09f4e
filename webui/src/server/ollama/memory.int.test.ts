/**
 * Issue 14, finding 3: one signed-in user tried to exhaust the server's memory
 * with many concurrent large `POST /ollama/api/chat` bodies (14 × 57 MiB took
 * RSS from 150 MB to 5 GB and /health to 14.8 s). Scaled down here to 14 bodies
 * of 24 MiB and 14 of 7 MiB, plus 12 MiB sent chunked (no Content-Length),
 * against the real `webui serve` process: its peak RSS must stay bounded and
 * /health must keep answering fast while the attack runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { call } from '../testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from '../testing/server-process.ts';

const MiB = 1024 * 1024;
const noFrontend = tempDir('webui-memory-nofe-');
const dirs: { remove(): void }[] = [];

function dataDir(): string {
  const d = tempDir('webui-memory-int-');
  dirs.push(d);
  return d.dir;
}

let fake: FakeOllama;
let server: ServerProcess;
let token: string;

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** A chat body of about `bytes` bytes (one long message), as a client would send it. */
function chatOf(bytes: number): Buffer {
  const head = '{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"';
  const tail = '"}]}';
  return Buffer.from(head + 'a'.repeat(bytes - head.length - tail.length) + tail);
}

/** POSTs `body` to /ollama/api/chat; chunked sends it without Content-Length. Resolves with the status. */
function postChat(body: Buffer, chunked = false): Promise<number> {
  const url = new URL('/ollama/api/chat', server.url);
  const headers: http.OutgoingHttpHeaders = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  };
  if (!chunked) headers['content-length'] = body.length;
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    // The server may refuse and close before it has read everything: that is an answer too.
    req.on('error', () => resolve(-1));
    if (chunked) {
      for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
      req.end();
    } else req.end(body);
  });
}

interface AttackResult {
  statuses: number[];
  /** Peak RSS during the attack minus RSS before it, MB. */
  growthMb: number;
  /** The slowest /health answer during the attack, ms. */
  slowestHealthMs: number;
}

/**
 * Runs `attack` while polling /health; reports the growth of the peak RSS
 * (VmHWM, reset first). Build the bodies before: this process shares the
 * machine, and building them here would count as the server's slowness.
 */
async function underAttack(attack: () => Promise<number[]>): Promise<AttackResult> {
  const pid = server.proc.pid as number;
  // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+), so each attack has its own peak.
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = memoryMb(pid).rss;
  let peak = before;
  let slowest = 0;
  let running = true;
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${server.url}/health`).then((r) => r.arrayBuffer());
      slowest = Math.max(slowest, performance.now() - t);
      peak = Math.max(peak, memoryMb(pid).rss);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const statuses = await attack();
  // Let any work still queued behind the answers show up in the samples.
  await new Promise((r) => setTimeout(r, 300));
  running = false;
  await probe;
  peak = Math.max(peak, memoryMb(pid).peak);
  return { statuses, growthMb: peak - before, slowestHealthMs: slowest };
}

/** A fresh server for each attack: V8 keeps a heap it has grown, which would hide the next attack's cost. */
beforeEach(async () => {
  server = await spawnServer({
    args: ['serve', '--mode', 'api'],
    env: {
      WEBUI_SECRET_KEY: 'memory-integration-secret-0123456789abcdef',
      FRONTEND_BUILD_DIR: noFrontend.dir,
      DATA_DIR: dataDir(),
      OLLAMA_BASE_URL: fake.url,
    },
  });
  const signup = await call(server.url, 'POST', '/api/v1/auths/signup', {
    body: { name: 'Mallory', email: 'mallory@example.com', password: 'correct horse battery' },
  });
  token = (signup.body as { token: string }).token;
  // Warm up the route (first-call compilation and the model list are not the attack's cost).
  expect(await postChat(chatOf(1024))).toBe(200);
});

afterEach(async () => {
  await server?.stop();
});

beforeAll(async () => {
  // Records nothing: the bodies would otherwise stay in this test process.
  fake = await startFakeOllama({ record: false });
});

afterAll(async () => {
  await fake?.close();
  for (const d of dirs) d.remove();
  noFrontend.remove();
});

describe('a signed-in user sending many large chat bodies at once', () => {
  it('14 × 24 MiB: refused by the body limit before it is read; RSS and /health unaffected', async () => {
    const body = chatOf(24 * MiB);
    const r = await underAttack(() => Promise.all(Array.from({ length: 14 }, () => postChat(body))));
    console.log(
      `14 × 24 MiB: statuses ${JSON.stringify(r.statuses)}, +${r.growthMb.toFixed(1)} MB RSS, /health ≤ ${r.slowestHealthMs.toFixed(0)} ms`,
    );
    expect(r.statuses.every((s) => s === 413 || s === -1)).toBe(true);
    expect(r.growthMb).toBeLessThan(100);
    expect(r.slowestHealthMs).toBeLessThan(500);
  });

  it('12 MiB chunked (no Content-Length): cut off at the limit', async () => {
    const body = chatOf(12 * MiB);
    const r = await underAttack(() => Promise.all(Array.from({ length: 6 }, () => postChat(body, true))));
    console.log(
      `6 × 12 MiB chunked: statuses ${JSON.stringify(r.statuses)}, +${r.growthMb.toFixed(1)} MB RSS, /health ≤ ${r.slowestHealthMs.toFixed(0)} ms`,
    );
    expect(r.statuses.every((s) => s === 413 || s === 429 || s === -1)).toBe(true);
    expect(r.growthMb).toBeLessThan(150);
    expect(r.slowestHealthMs).toBeLessThan(500);
  });

  it('14 × 7 MiB (under the limit): a few at a time per user, the rest 429; RSS bounded, /health fast', async () => {
    const body = chatOf(7 * MiB);
    const r = await underAttack(() => Promise.all(Array.from({ length: 14 }, () => postChat(body))));
    console.log(
      `14 × 7 MiB: statuses ${JSON.stringify(r.statuses)}, +${r.growthMb.toFixed(1)} MB RSS, /health ≤ ${r.slowestHealthMs.toFixed(0)} ms`,
    );
    expect(r.statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(r.statuses.every((s) => s === 200 || s === 429 || s === -1)).toBe(true);
    expect(r.growthMb).toBeLessThan(150);
    expect(r.slowestHealthMs).toBeLessThan(500);
    // The user is not locked out afterwards: what was reserved has been given back.
    expect(await postChat(body)).toBe(200);
  });
});
