/**
 * The Ingress the operator renders, served by a real nginx (the stand-in for an ingress controller)
 * in front of the real servers, each started with the environment the operator renders for it
 * (test/harness/rendered-layout.ts). With the default spec.ingress.apiRoute the API goes straight to
 * the backend, under the Ingress's sub-path, and only the app's files come from the frontend; the
 * frontend's own forwarding (port-forward, Service-only access) keeps working beside it.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer, tempDir } from '../../webui/src/server/testing/server-process.ts';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type RunningNginx, routesFromIngress, startNginx } from '../harness/nginx.ts';
import { renderedLayout } from '../harness/rendered-layout.ts';

const FRONTEND_DIST = fileURLToPath(new URL('../../webui/frontend-dist', import.meta.url));
const SECRET = 'ingress-routing-secret-0123456789abcdef';
const PASSWORD = 'ingress-routing-passw0rd';

let fake: FakeOllama;
let backend: ServerProcess;
let frontend: ServerProcess;
let nginx: RunningNginx;
const data = tempDir('webui-ingress-');

/** The rendered env for running here: the pod's port and data path give way to the test's. */
const local = (env: Record<string, string>) => {
  const { PORT: _port, DATA_DIR: _data, ...rest } = env;
  return rest;
};

/** Request lines a server logged for `path` (any level: both run at debug here). */
const linesFor = (s: ServerProcess, path: string) =>
  s.logs().filter((l) => l.msg === 'request' && l.path === path);

async function eventually<T>(read: () => T[], atLeast = 1): Promise<T[]> {
  for (let i = 0; i < 100; i++) {
    const v = read();
    if (v.length >= atLeast) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  return read();
}

/**
 * Waits until the frontend has written every request line it will write for what came before: a
 * request it serves itself goes in after them (lines are written in order, when each answer ends),
 * so once its line is there, an absent line means the frontend never saw that request.
 */
async function frontendSettled(): Promise<void> {
  const before = linesFor(frontend, '/').length;
  await (await fetch(`${frontend.url}/chat/`)).text();
  await eventually(() => linesFor(frontend, '/'), before + 1);
}

beforeAll(async () => {
  fake = await startFakeOllama();
  const layout = renderedLayout({
    ollama: { baseUrl: fake.url },
    ingress: { host: 'chat.example.com', path: '/chat' },
  });
  backend = await spawnServer({
    args: ['serve', '--mode', 'api'],
    env: { ...local(layout.backendEnv), DATA_DIR: data.dir, WEBUI_SECRET_KEY: SECRET, LOG_LEVEL: 'debug' },
  });
  frontend = await spawnServer({
    args: ['serve', '--mode', 'frontend'],
    env: {
      ...local(layout.frontendEnv),
      BACKEND_URL: backend.url,
      FRONTEND_BUILD_DIR: FRONTEND_DIST,
      LOG_LEVEL: 'debug',
    },
    wait: 'health',
  });
  if (layout.ingress === undefined) throw new Error('no Ingress rendered');
  nginx = await startNginx(
    `${data.dir}/nginx`,
    routesFromIngress(layout.ingress, {
      [layout.services.backend]: backend.url,
      [layout.services.frontend]: frontend.url,
    }),
  );
});

afterAll(async () => {
  await nginx?.stop();
  await frontend?.stop();
  await backend?.stop();
  await fake?.close();
  data.remove();
});

describe('the rendered Ingress, served by nginx (spec.ingress.apiRoute: backend, the default)', () => {
  let token = '';

  it('serves the app from the frontend under the sub-path', async () => {
    const res = await fetch(`${nginx.url}/chat/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await eventually(() => linesFor(frontend, '/'))).not.toEqual([]);
  });

  it('sends sign-up straight to the backend, which scopes the session cookie to the sub-path', async () => {
    const res = await fetch(`${nginx.url}/chat/api/v1/auths/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    token = ((await res.json()) as { token: string }).token;
    expect(res.headers.getSetCookie().find((c) => c.startsWith('token='))).toMatch(/Path=\/chat(;|$)/);
    expect(await eventually(() => linesFor(backend, '/api/v1/auths/signup'))).toHaveLength(1);
    await frontendSettled();
    expect(linesFor(frontend, '/api/v1/auths/signup')).toEqual([]);
  });

  it('streams a chat from Ollama through nginx and the backend alone', async () => {
    const res = await fetch(`${nginx.url}/chat/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hi' }],
        options: { seed: 1601 },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ done: true });
    await fake.waitFor((r) => (r.body as { options?: { seed?: number } }).options?.seed === 1601);
    expect(await eventually(() => linesFor(backend, '/ollama/api/chat'))).toHaveLength(1);
    await frontendSettled();
    expect(linesFor(frontend, '/ollama/api/chat')).toEqual([]);
  });

  it('sends /health and /openapi.json to the backend too, and nothing else', async () => {
    // The frontend's own probes (its /health, forwarded) are in its log already: count from here.
    const frontendHealthLines = linesFor(frontend, '/health').length;
    const backendHealthLines = linesFor(backend, '/health').length;
    expect((await fetch(`${nginx.url}/chat/health`)).status).toBe(200);
    expect(await eventually(() => linesFor(backend, '/health'), backendHealthLines + 1)).toHaveLength(
      backendHealthLines + 1,
    );
    await frontendSettled();
    expect(linesFor(frontend, '/health')).toHaveLength(frontendHealthLines);
    expect((await fetch(`${nginx.url}/chat/openapi.json`)).status).toBe(200);
    expect(await eventually(() => linesFor(backend, '/openapi.json'))).toHaveLength(1);
    await frontendSettled();
    expect(linesFor(frontend, '/openapi.json')).toEqual([]);
    // A path that only starts like an API prefix is the app's, not the API's.
    expect((await fetch(`${nginx.url}/chat/apidocs`)).status).toBe(200);
    expect(await eventually(() => linesFor(frontend, '/apidocs'))).toHaveLength(1);
    expect(linesFor(backend, '/apidocs')).toEqual([]);
  });

  it('still answers the API through the frontend forwarder (port-forward), with the same cookie scope', async () => {
    const res = await fetch(`${frontend.url}/chat/api/v1/auths/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('token='))).toMatch(/Path=\/chat(;|$)/);
  });
});
