import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { RouteRegistry } from '../openapi/registry.ts';
import { OLLAMA_PREFIX, OLLAMA_ROUTES } from './route-table.ts';
import { createOllamaRouter } from './router.ts';
import { MemoryConfig, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

// A body each route accepts, so "allowed" means a real 2xx answer, not just "not 401/403".
const BODIES: Record<string, unknown> = {
  '/config/update': { ENABLE_OLLAMA_API: true },
  '/verify': { url: 'FAKE' },
  '/api/chat': { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false },
  '/api/generate': { model: 'llama3.2', prompt: 'hi', stream: false },
  '/api/show': { model: 'llama3.2' },
  '/api/embed': { model: 'nomic-embed-text', input: 'hi' },
  '/api/embeddings': { model: 'nomic-embed-text', prompt: 'hi' },
  '/api/pull': { model: 'pulled-model', stream: false },
  '/api/create': { model: 'created-model', from: 'llama3.2', stream: false },
  '/api/delete': { model: 'to-delete' },
  '/api/copy': { source: 'llama3.2', destination: 'copied-model' },
  '/v1/chat/completions': { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] },
  '/v1/completions': { model: 'llama3.2', prompt: 'hi' },
  '/api/unload': { model: 'llama3.2' },
  '/api/push': { model: 'me/pushed', stream: false },
};

let fake: FakeOllama;
let app: ProxyApp;

beforeAll(async () => {
  fake = await startFakeOllama();
  app = await startProxyApp(new MemoryConfig({ ollamaBaseUrl: fake.url }));
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

async function call(route: (typeof OLLAMA_ROUTES)[number], role: string | undefined) {
  const path = route.path.replace(':url_idx', '0');
  const base = path.replace(/\/0$/, '');
  let body = BODIES[base];
  if (base === '/verify') body = { url: fake.url };
  // Recreate what delete removes, and the namespaced model push needs, so every role's call can succeed.
  const copyTo = base === '/api/delete' ? 'to-delete' : base === '/api/push' ? 'me/pushed' : undefined;
  if (copyTo !== undefined) {
    await fetch(`${fake.url}/api/copy`, {
      method: 'POST',
      body: JSON.stringify({ source: 'llama3.2', destination: copyTo }),
    });
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (role !== undefined) headers[ROLE_HEADER] = role;
  const res = await fetch(`${app.url}${OLLAMA_PREFIX}${path}`, {
    method: route.method.toUpperCase(),
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.text() };
}

describe('/ollama auth levels', () => {
  for (const route of OLLAMA_ROUTES) {
    const name = `${route.method.toUpperCase()} ${route.path} (${route.access})`;
    it(name, async () => {
      const anonymous = await call(route, undefined);
      const pending = await call(route, 'pending');
      const user = await call(route, 'user');
      const admin = await call(route, 'admin');
      if (route.access === 'public') {
        expect(anonymous.status, anonymous.body).toBe(200);
        expect(pending.status).toBe(200);
      } else {
        expect(anonymous.status).toBe(401);
        expect(JSON.parse(anonymous.body)).toEqual({ detail: 'Not authenticated' });
        expect(pending.status).toBe(403);
        expect(JSON.parse(pending.body).detail).toMatch(/permission/);
      }
      if (route.access === 'admin') expect(user.status).toBe(403);
      else expect(user.status, user.body).toBe(200);
      expect(admin.status, admin.body).toBe(200);
    });
  }

  it('describes every route the router serves for the OpenAPI document, with its access level', () => {
    const registry = new RouteRegistry();
    const router = createOllamaRouter({
      config: new MemoryConfig(),
      logger: pino({ level: 'silent' }),
      registry,
      where: { place: 'host', port: undefined },
    });
    const ollamaRouteDocs = registry.routes;
    const served = router.stack.flatMap((layer) =>
      layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m.toLowerCase()} ${String(layer.path)}`),
    );
    const documented = ollamaRouteDocs.map((d) => `${d.method} ${d.path}`);
    expect(documented.sort()).toEqual(served.sort());
    for (const r of OLLAMA_ROUTES) {
      const path = r.path === '/' ? OLLAMA_PREFIX : `${OLLAMA_PREFIX}${r.path}`;
      expect(ollamaRouteDocs.find((d) => d.method === r.method && d.path === path)?.access, r.path).toBe(
        r.access,
      );
    }
    expect(documented).toContain('get /ollama/api/version');
    expect(documented).toContain('post /ollama/api/chat/:url_idx');
    expect(documented).toContain('delete /ollama/api/delete');
  });
});
