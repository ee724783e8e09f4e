/**
 * Issue 14 against the real `webui serve` process: a forged cross-site form
 * POST with the admin's cookie (CSRF), sign-out by GET, NUL characters and
 * deeply nested JSON in inputs, and internal addresses in answers to
 * anonymous callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../test/fake-ollama/fake-ollama.ts';
import { freePort } from '../../../test/postgres/postgres.ts';
import { loopbackHint, placeFrom, readPlaceClues } from './ollama/loopback-hint.ts';
import { call } from './testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from './testing/server-process.ts';

const data = tempDir('webui-hostile-int-');
const noFrontend = tempDir('webui-hostile-nofe-');
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'correct horse battery' };

let fake: FakeOllama;
let closedPort: number;
let server: ServerProcess;
let adminToken: string;
/** The admin's session cookie, as the browser holds it (`token=...`). */
let adminCookie: string;

/** A raw request with exactly these headers (fetch would add its own Content-Type and Origin rules). */
async function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(server.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const ollamaUrls = async (): Promise<unknown> =>
  ((await call(server.url, 'GET', '/ollama/config', { token: adminToken })).body as Record<string, unknown>)
    .OLLAMA_BASE_URLS;

/** `{"a":{"a":...}}` nested `depth` levels. */
const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

beforeAll(async () => {
  fake = await startFakeOllama();
  // A port nothing listens on any more: connections to it are refused.
  closedPort = await freePort();
  server = await spawnServer({
    args: ['serve', '--mode', 'api'],
    env: {
      WEBUI_SECRET_KEY: 'hostile-input-integration-secret-0123456789',
      FRONTEND_BUILD_DIR: noFrontend.dir,
      DATA_DIR: data.dir,
      OLLAMA_BASE_URLS: `${fake.url};http://127.0.0.1:${closedPort}`,
    },
  });
  const res = await fetch(`${server.url}/api/v1/auths/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  expect(res.status).toBe(200);
  adminToken = ((await res.json()) as { token: string }).token;
  adminCookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  expect(adminCookie).toMatch(/^token=/);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  data.remove();
  noFrontend.remove();
});

describe('CSRF with the cookie session', () => {
  // What <form method=post enctype=text/plain> on another site sends: the body is the JSON the attacker wrote.
  const forged = JSON.stringify({ OLLAMA_BASE_URLS: ['http://attacker.example:11434'] });

  it('a text/plain form POST from a same-site origin cannot change the Ollama URLs', async () => {
    const before = await ollamaUrls();
    const res = await raw(
      'POST',
      '/ollama/config/update',
      {
        cookie: adminCookie,
        'content-type': 'text/plain',
        origin: 'http://127.0.0.1:1',
        'sec-fetch-site': 'same-site',
        'sec-fetch-mode': 'navigate',
      },
      forged,
    );
    expect(res.status).toBe(403);
    expect(await ollamaUrls()).toEqual(before);
  });

  it('an older browser without Sec-Fetch-Site is judged by Origin', async () => {
    const res = await raw(
      'POST',
      '/ollama/config/update',
      { cookie: adminCookie, 'content-type': 'application/json', origin: 'http://evil.example' },
      forged,
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toEqual({ detail: expect.stringContaining('cross-site') });
  });

  it('JSON routes and the /ollama body reader require Content-Type: application/json', async () => {
    const before = await ollamaUrls();
    const plain = await raw(
      'POST',
      '/ollama/config/update',
      { cookie: adminCookie, 'content-type': 'text/plain' },
      forged,
    );
    expect(plain.status).toBe(415);
    const none = await raw('POST', '/ollama/config/update', { cookie: adminCookie }, forged);
    expect(none.status).toBe(415);
    const api = await raw(
      'POST',
      '/api/v1/auths/update/profile',
      { cookie: adminCookie, 'content-type': 'text/plain; charset=utf-8' },
      JSON.stringify({ name: 'Mallory' }),
    );
    expect(api.status).toBe(415);
    const almost = await raw(
      'POST',
      '/api/v1/auths/update/profile',
      { cookie: adminCookie, 'content-type': 'application/jsonx' },
      JSON.stringify({ name: 'Mallory' }),
    );
    expect(almost.status).toBe(415);
    expect(await ollamaUrls()).toEqual(before);
  });

  it('the app itself (same origin) and API clients without browser headers still work', async () => {
    const same = await raw(
      'POST',
      '/ollama/config/update',
      {
        cookie: adminCookie,
        'content-type': 'application/json; charset=utf-8',
        origin: server.url,
        'sec-fetch-site': 'same-origin',
      },
      JSON.stringify({ ENABLE_OLLAMA_API: true }),
    );
    expect(same.status).toBe(200);
    const oldBrowser = await raw(
      'POST',
      '/api/v1/auths/update/profile',
      { cookie: adminCookie, 'content-type': 'application/json', origin: server.url },
      JSON.stringify({ name: ADMIN.name }),
    );
    expect(oldBrowser.status).toBe(200);
    const cli = await call(server.url, 'POST', '/ollama/config/update', {
      token: adminToken,
      body: { ENABLE_OLLAMA_API: true },
    });
    expect(cli.status).toBe(200);
  });

  it('sign-out is a POST: a cross-site GET (an <img>) cannot sign anyone out', async () => {
    const get = await raw('GET', '/api/v1/auths/signout', { cookie: adminCookie });
    expect(get.status).not.toBe(200);
    expect(get.headers.get('set-cookie')).toBeNull();
    const forgedPost = await raw('POST', '/api/v1/auths/signout', {
      cookie: adminCookie,
      'sec-fetch-site': 'cross-site',
    });
    expect(forgedPost.status).toBe(403);
    const post = await raw('POST', '/api/v1/auths/signout', {
      cookie: adminCookie,
      'sec-fetch-site': 'same-origin',
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('set-cookie')).toMatch(/^token=;/);
    // Signing out may end every session of the account: sign in again for the tests below.
    const again = await call(server.url, 'POST', '/api/v1/auths/signin', {
      body: { email: ADMIN.email, password: ADMIN.password },
    });
    adminToken = (again.body as { token: string }).token;
    adminCookie = (again.headers.get('set-cookie') ?? '').split(';')[0] as string;
  });
});

describe('NUL characters', () => {
  it('in a JSON string (the public sign-in included): 400, not 500', async () => {
    const signin = await call(server.url, 'POST', '/api/v1/auths/signin', {
      body: { email: 'ada\u0000@example.com', password: 'whatever-password' },
    });
    expect(signin.status).toBe(400);
    expect((signin.body as { detail: string }).detail).toMatch(/NUL/);
    const key = await call(server.url, 'POST', '/ollama/config/update', {
      token: adminToken,
      body: { OLLAMA_API_CONFIGS: { '0': { key: 'k\u0000' } } },
    });
    expect(key.status).toBe(400);
    const nameKey = await call(server.url, 'POST', '/api/v1/chats/new', {
      token: adminToken,
      body: { chat: { title: 'x', 'a\u0000b': 1 } },
    });
    expect(nameKey.status).toBe(400);
  });

  it("other characters SQL treats specially are values, not syntax (MikroORM's escaping holds)", async () => {
    for (const email of ["x'OR'1'='1@example.com", 'back\\slash@example.com', '\ud800@example.com']) {
      const res = await call(server.url, 'POST', '/api/v1/auths/signin', {
        body: { email, password: 'whatever-password' },
      });
      expect(res.status, email).toBe(400);
    }
    const id = "x' OR '1'='1";
    const chat = await call(server.url, 'GET', `/api/v1/chats/${encodeURIComponent(id)}`, {
      token: adminToken,
    });
    expect(chat.status).toBe(404);
  });

  it('in a path parameter or the query: 400, not 500', async () => {
    for (const path of ['/api/v1/users/%00', '/api/v1/chats/abc%00def', '/api/v1/users/?q=%00']) {
      const res = await call(server.url, 'GET', path, { token: adminToken });
      expect(res.status, path).toBe(400);
    }
    const del = await call(server.url, 'DELETE', '/api/v1/chats/%00', { token: adminToken });
    expect(del.status).toBe(400);
  });
});

describe('deeply nested JSON', () => {
  it('5,000 levels: 400 on the API and on the /ollama proxy; ordinary nesting still passes', async () => {
    const chat = await raw(
      'POST',
      '/api/v1/chats/new',
      { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      `{"chat":${nested(5000)}}`,
    );
    expect(chat.status).toBe(400);
    expect(JSON.parse(chat.text).detail).toMatch(/nest/);
    const proxied = await raw(
      'POST',
      '/ollama/api/chat',
      { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      `{"model":"llama3.2","stream":false,"messages":[],"options":${nested(5000)}}`,
    );
    expect(proxied.status).toBe(400);
    const fine = await raw(
      'POST',
      '/api/v1/chats/new',
      { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      `{"chat":{"title":"deep","x":${nested(30)}}}`,
    );
    expect(fine.status).toBe(200);
  });
});

describe('anonymous bodies', () => {
  it('public routes take at most 256 KiB: no per-user share bounds them', async () => {
    const res = await raw(
      'POST',
      '/api/v1/auths/signin',
      { 'content-type': 'application/json' },
      JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(300 * 1024) }),
    );
    expect(res.status).toBe(413);
  });
});

describe('what anonymous callers learn', () => {
  it('GET /ollama/api/version/1 names neither the upstream address nor its error; an admin gets both', async () => {
    const anon = await call(server.url, 'GET', '/ollama/api/version/1');
    expect(anon.status).toBe(502);
    expect(anon.text).not.toContain(String(closedPort));
    expect(anon.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|refused/);
    const admin = await call(server.url, 'GET', '/ollama/api/version/1', { token: adminToken });
    expect(admin.status).toBe(502);
    expect(admin.text).toContain(`127.0.0.1:${closedPort}`);
    // The advice depends on where the server runs (this machine may be a container); computed the same way.
    const where = { place: placeFrom(readPlaceClues()), port: undefined };
    expect(admin.text).toContain(loopbackHint(`http://127.0.0.1:${closedPort}`, where).trim().slice(0, 40));
  });
});
