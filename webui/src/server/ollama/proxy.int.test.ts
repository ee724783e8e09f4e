/**
 * The /ollama proxy inside the real `webui serve` process, on SQLite and on a
 * real Postgres (sessions and the saved connection settings live there), with
 * real accounts and tokens, against the fake Ollama; and `--mode frontend`
 * forwarding a stream through a second process.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { call, type DbBackend, postgresBackend } from '../testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from '../testing/server-process.ts';

const SECRET = 'ollama-proxy-integration-secret-0123456789';
const PASSWORD = 'correct horse battery';
const data = tempDir('webui-ollama-int-');
const noFrontend = tempDir('webui-ollama-nofe-');

type Tokens = Record<'admin' | 'user' | 'pending', string>;

let fake: FakeOllama;
let second: FakeOllama;
let api: ServerProcess;
let frontend: ServerProcess;
let tokens: Tokens;

async function closedLoopbackPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** An API-mode server on `dbEnv` with an admin, a user and a pending account. */
async function startApi(dbEnv: Record<string, string>): Promise<{ api: ServerProcess; tokens: Tokens }> {
  const api = await spawnServer({
    args: ['serve', '--mode', 'api'],
    env: {
      WEBUI_SECRET_KEY: SECRET,
      FRONTEND_BUILD_DIR: noFrontend.dir,
      OLLAMA_BASE_URL: fake.url,
      WEBUI_MANAGED_SETTINGS: 'ENABLE_OLLAMA_API',
      ...dbEnv,
    },
  });
  const tokens: Tokens = { admin: '', user: '', pending: '' };
  const signup = await call(api.url, 'POST', '/api/v1/auths/signup', {
    body: { name: 'Admin', email: 'admin@example.com', password: PASSWORD },
  });
  tokens.admin = (signup.body as { token: string }).token;
  for (const role of ['user', 'pending'] as const) {
    const add = await call(api.url, 'POST', '/api/v1/auths/add', {
      token: tokens.admin,
      body: { name: role, email: `${role}@example.com`, password: PASSWORD, role },
    });
    expect(add.status).toBe(200);
    const signin = await call(api.url, 'POST', '/api/v1/auths/signin', {
      body: { email: `${role}@example.com`, password: PASSWORD },
    });
    tokens[role] = (signin.body as { token: string }).token;
  }
  return { api, tokens };
}

beforeAll(async () => {
  fake = await startFakeOllama({ slowTokenDelayMs: 60_000 });
  second = await startFakeOllama({ models: [{ name: 'mistral:7b', kind: 'normal' }] });
  ({ api, tokens } = await startApi({ DATA_DIR: data.dir }));
  frontend = await spawnServer({
    args: ['serve', '--mode', 'frontend'],
    env: { BACKEND_URL: api.url, FRONTEND_BUILD_DIR: noFrontend.dir, DATA_DIR: data.dir },
    wait: 'health',
  });
});

afterAll(async () => {
  await frontend?.stop();
  await api?.stop();
  await fake?.close();
  await second?.close();
  data.remove();
  noFrontend.remove();
});

const chatBody = (model: string, extra: object = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

function realServerTests(server: () => { api: ServerProcess; tokens: Tokens }, seed: number): void {
  let api: ServerProcess;
  let tokens: Tokens;
  beforeAll(() => {
    ({ api, tokens } = server());
  });

  it('enforces the auth levels with real sessions', async () => {
    expect((await call(api.url, 'GET', '/ollama/api/tags')).status).toBe(401);
    expect((await call(api.url, 'GET', '/ollama/api/tags', { token: tokens.pending })).status).toBe(403);
    expect((await call(api.url, 'GET', '/ollama/api/tags', { token: tokens.user })).status).toBe(200);
    expect((await call(api.url, 'GET', '/ollama/api/version')).status).toBe(200);
    const pull = { body: { model: 'phi3', stream: false } };
    expect((await call(api.url, 'POST', '/ollama/api/pull', { token: tokens.user, ...pull })).status).toBe(
      403,
    );
    expect((await call(api.url, 'POST', '/ollama/api/pull', { token: tokens.admin, ...pull })).status).toBe(
      200,
    );
    expect((await call(api.url, 'GET', '/ollama/config', { token: tokens.user })).status).toBe(403);
  });

  it('streams the first chunk before the upstream finished, and aborts upstream on disconnect', async () => {
    const ac = new AbortController();
    const res = await fetch(`${api.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.user}`, 'content-type': 'application/json' },
      body: chatBody('slow', { options: { seed } }),
      signal: ac.signal,
    });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const first = await (res.body as ReadableStream<Uint8Array>).getReader().read();
    expect(JSON.parse(new TextDecoder().decode(first.value))).toMatchObject({
      message: { content: 'Hello' },
    });
    const upstream = await fake.waitFor(
      (r) => (r.body as { options?: { seed?: number } }).options?.seed === seed,
    );
    expect(upstream.finished).toBe(false);
    expect(upstream.headers.authorization).toBeUndefined();
    ac.abort();
    await fake.waitFor((r) => r === upstream && r.aborted);
  });

  it('applies an admin change of the connection list at once', async () => {
    const update = await call(api.url, 'POST', '/ollama/config/update', {
      token: tokens.admin,
      body: { OLLAMA_BASE_URLS: [fake.url, second.url] },
    });
    expect(update.status).toBe(200);
    const tags = await call(api.url, 'GET', '/ollama/api/tags', { token: tokens.user });
    const models = (tags.body as { models: { model: string; urls: number[] }[] }).models;
    expect(models.find((m) => m.model === 'mistral:7b')?.urls).toEqual([1]);
    const chat = await fetch(`${api.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.user}`, 'content-type': 'application/json' },
      body: chatBody('mistral:7b', { stream: false }),
    });
    expect(chat.status).toBe(200);
    expect(second.requests.some((r) => r.path === '/api/chat')).toBe(true);
  });

  it('refuses to change a managed setting with 409 from the config store', async () => {
    const res = await call(api.url, 'POST', '/ollama/config/update', {
      token: tokens.admin,
      body: { ENABLE_OLLAMA_API: false },
    });
    expect(res.status).toBe(409);
    expect((res.body as { detail: string }).detail).toContain('ENABLE_OLLAMA_API');
    const cfg = await call(api.url, 'GET', '/ollama/config', { token: tokens.admin });
    expect(cfg.body).toMatchObject({ ENABLE_OLLAMA_API: true, MANAGED: ['ENABLE_OLLAMA_API'] });
  });

  it('answers an unreachable loopback Ollama with 502 and the container hint', async () => {
    const port = await closedLoopbackPort();
    await call(api.url, 'POST', '/ollama/config/update', {
      token: tokens.admin,
      body: { OLLAMA_BASE_URLS: [`http://localhost:${port}`] },
    });
    const res = await call(api.url, 'POST', '/ollama/api/chat', {
      token: tokens.user,
      body: { model: 'llama3.2', messages: [] },
    });
    expect(res.status).toBe(502);
    expect((res.body as { detail: string }).detail).toMatch(
      /^Ollama unreachable at http:\/\/localhost:\d+: .*host\.docker\.internal/,
    );
    await call(api.url, 'POST', '/ollama/config/update', {
      token: tokens.admin,
      body: { OLLAMA_BASE_URLS: [fake.url] },
    });
  });
}

describe('/ollama in the real server on sqlite', () => {
  realServerTests(() => ({ api, tokens }), 7001);
});

describe('/ollama in the real server on postgres', () => {
  // Postgres is required, not optional: startPostgres() fails with a clear message when it is missing.
  const backend: DbBackend = postgresBackend();
  let pg: { api: ServerProcess; tokens: Tokens };
  beforeAll(async () => {
    pg = await startApi(await backend.fresh());
  });
  afterAll(async () => {
    await pg?.api.stop();
    await backend.cleanup();
  });
  realServerTests(() => pg, 7101);
});

describe('--mode frontend forwarding', () => {
  it('forwards a streaming chat from the API process chunk by chunk, and the disconnect back', async () => {
    const ac = new AbortController();
    const res = await fetch(`${frontend.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.user}`, 'content-type': 'application/json' },
      body: chatBody('slow', { options: { seed: 7002 } }),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    const first = await (res.body as ReadableStream<Uint8Array>).getReader().read();
    expect(JSON.parse(new TextDecoder().decode(first.value))).toMatchObject({
      message: { content: 'Hello' },
    });
    const upstream = await fake.waitFor(
      (r) => (r.body as { options?: { seed?: number } }).options?.seed === 7002,
    );
    expect(upstream.finished).toBe(false);
    ac.abort();
    await fake.waitFor((r) => r === upstream && r.aborted);
  });

  it("logs a forwarded request once, in the backend's line, under the id the forwarder answers with", async () => {
    const res = await fetch(`${frontend.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.user}`, 'content-type': 'application/json' },
      body: chatBody('llama3.2', { stream: false }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const backendLine = async () => {
      for (let i = 0; i < 100; i++) {
        const line = api.logs().find((l) => l.msg === 'request' && l.reqId === id);
        if (line !== undefined) return line;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    };
    expect(await backendLine()).toMatchObject({ path: '/ollama/api/chat', status: 200, level: 30 });
    // The forwarder's own line for it is at debug, below the deployed LOG_LEVEL=info.
    expect(frontend.logs().filter((l) => l.msg === 'request' && l.reqId === id)).toEqual([]);
  });

  it('keeps the session cookie of a sign-in', async () => {
    const res = await fetch(`${frontend.url}/api/v1/auths/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'user@example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('token='))).toBe(true);
  });
});
