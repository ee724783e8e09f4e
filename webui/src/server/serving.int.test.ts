/**
 * The real `webui serve` process: serving modes, the static frontend (and a
 * missing build), JSON 404s, CORS modes and startup errors. Storage does not
 * matter here, so these run on SQLite only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './testing/backends.ts';
import { runToExit, type ServerProcess, spawnServer, tempDir } from './testing/server-process.ts';

type Json = Record<string, unknown>;
const dirs: Array<{ remove(): void }> = [];
const servers: ServerProcess[] = [];

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) d.remove();
});

function dir(prefix: string): string {
  const t = tempDir(prefix);
  dirs.push(t);
  return t.dir;
}

async function serve(env: Record<string, string>, args?: string[]): Promise<ServerProcess> {
  const s = await spawnServer({ env: { DATA_DIR: dir('webui-data-'), ...env }, ...(args ? { args } : {}) });
  servers.push(s);
  return s;
}

function fakeBuild(): string {
  const d = dir('webui-fe-');
  writeFileSync(
    path.join(d, 'index.html'),
    '<!doctype html><title>app shell</title><script src="/assets/app-7G2KQX9A.js"></script>',
  );
  mkdirSync(path.join(d, 'assets'));
  writeFileSync(path.join(d, 'assets', 'app-7G2KQX9A.js'), 'console.log("app")');
  writeFileSync(path.join(d, 'favicon.png'), 'png');
  return d;
}

/** Unknown /api/* and /ollama/* paths: a JSON 404 for any method, never index.html or a bare 404. */
async function expectJson404s(url: string): Promise<void> {
  for (const [method, p] of [
    ['GET', '/api/v1/unknown'],
    ['GET', '/api/nope'],
    ['POST', '/api/v1/unknown'],
    ['GET', '/ollama/unknown/path'],
    ['DELETE', '/ollama/nope'],
  ] as const) {
    const r = await call(url, method, p, method === 'POST' ? { body: {} } : {});
    expect([method, p, r.status]).toEqual([method, p, 404]);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual({ detail: 'Not Found' });
  }
}

describe('--mode all with a frontend build', () => {
  let s: ServerProcess;
  beforeAll(async () => {
    s = await serve({ FRONTEND_BUILD_DIR: fakeBuild() });
  });

  it('serves index.html with no-cache and hashed assets as immutable', async () => {
    const index = await call(s.url, 'GET', '/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('app shell');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect((await call(s.url, 'GET', '/api/config')).headers.get('cache-control')).toBe('no-store');
    const asset = await call(s.url, 'GET', '/assets/app-7G2KQX9A.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await call(s.url, 'GET', '/favicon.png')).headers.get('cache-control')).not.toContain(
      'immutable',
    );
  });

  it('falls back to index.html for client-side routes but not for missing assets or API paths', async () => {
    const route = await call(s.url, 'GET', '/c/some-chat-id');
    expect(route.status).toBe(200);
    expect(route.text).toContain('app shell');
    expect((await call(s.url, 'GET', '/assets/missing-AAAAAAAA.js')).status).toBe(404);
    await expectJson404s(s.url);
  });

  it('does not serve files outside the build directory', async () => {
    const r = await fetch(`${s.url}/%2e%2e/%2e%2e/etc/passwd`);
    expect(await r.text()).not.toContain('root:');
  });

  it('reports the frontend on /health', async () => {
    expect((await call(s.url, 'GET', '/health')).body).toEqual({
      status: true,
      frontend: { served: true, present: true },
    });
  });

  it('sends no CORS headers by default (same-origin only)', async () => {
    const r = await call(s.url, 'GET', '/api/config', { headers: { origin: 'http://evil.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${s.url}/api/v1/auths/signin`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('--mode all without a frontend build', () => {
  let s: ServerProcess;
  beforeAll(async () => {
    s = await serve({ FRONTEND_BUILD_DIR: dir('webui-empty-') });
  });

  it('warns once, keeps the API working, explains on / how to build, and says so on /health', async () => {
    // /ready can answer before the piped stdout reaches us; the "ready" line comes after the warning.
    for (let i = 0; i < 100 && !s.logs().some((l) => l.msg === 'ready'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const warnings = s
      .logs()
      .filter((l) => l.level === 40 && String(l.msg).includes('frontend build not found'));
    expect(warnings).toHaveLength(1);
    const page = await call(s.url, 'GET', '/');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('make frontend');
    expect(page.text).toContain('has not been built');
    const health = (await call(s.url, 'GET', '/health')).body as { frontend: Json };
    expect(health.frontend).toMatchObject({ served: true, present: false });
    expect((await call(s.url, 'GET', '/api/config')).status).toBe(200);
    await expectJson404s(s.url);
  });
});

describe('--mode api', () => {
  it('serves no static files and does not complain about a missing build', async () => {
    const s = await serve({ FRONTEND_BUILD_DIR: fakeBuild() }, ['serve', '--mode', 'api']);
    expect((await call(s.url, 'GET', '/')).status).toBe(404);
    expect((await call(s.url, 'GET', '/health')).body).toEqual({ status: true, frontend: { served: false } });
    expect((await call(s.url, 'GET', '/api/config')).status).toBe(200);
    expect(s.output()).not.toContain('frontend build not found');
    // HOST and PORT are where it listens.
    expect(s.logs().find((l) => l.msg === 'listening')).toMatchObject({
      mode: 'api',
      address: `127.0.0.1:${s.port}`,
    });
    await expectJson404s(s.url);
  });
});

describe('--mode frontend', () => {
  it('serves the build and forwards /api, /ollama and /health to BACKEND_URL', async () => {
    const api = await serve({ WEBUI_NAME: 'Backend Name' }, ['serve', '--mode', 'api']);
    const feData = dir('webui-fe-data-');
    const fe = await spawnServer({
      env: { FRONTEND_BUILD_DIR: fakeBuild(), BACKEND_URL: api.url, DATA_DIR: feData },
      args: ['serve', '--mode', 'frontend'],
      wait: 'ready',
    });
    servers.push(fe);
    expect((await call(fe.url, 'GET', '/')).text).toContain('app shell');
    expect((await call(fe.url, 'GET', '/api/config')).body).toMatchObject({ name: 'Backend Name' });
    // /health comes from the backend, which serves no frontend.
    expect((await call(fe.url, 'GET', '/health')).body).toMatchObject({ frontend: { served: false } });
    expect((await call(fe.url, 'GET', '/ollama/api/tags')).status).toBe(401);
    // Served at the root, the forwarder drops a client's X-Forwarded-Prefix: the cookie stays at /.
    const signup = await call(fe.url, 'POST', '/api/v1/auths/signup', {
      body: { name: 'R', email: 'r@example.com', password: 'correct horse battery' },
      headers: { 'x-forwarded-prefix': '/elsewhere' },
    });
    expect(signup.headers.get('set-cookie')).toMatch(/^token=[^;]+; Path=\/;/);
    // Unknown API paths are the backend's JSON 404, never the build's index.html.
    await expectJson404s(fe.url);
    // This mode has no database and no secret key of its own.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(feData)).toEqual([]);
  });
});

describe('WEBUI_BASE_PATH (an Ingress routing /chat without rewriting)', () => {
  it('serves the app under the prefix, forwards prefixed API paths without it, and redirects /chat to /chat/', async () => {
    const api = await serve({ WEBUI_NAME: 'Prefixed' }, ['serve', '--mode', 'api']);
    const fe = await spawnServer({
      env: {
        FRONTEND_BUILD_DIR: fakeBuild(),
        BACKEND_URL: api.url,
        DATA_DIR: dir('webui-fe-data-'),
        WEBUI_BASE_PATH: '/chat/',
      },
      args: ['serve', '--mode', 'frontend'],
      wait: 'ready',
    });
    servers.push(fe);
    const bare = await fetch(`${fe.url}/chat?lang=de`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/chat/?lang=de');
    expect((await call(fe.url, 'GET', '/chat/')).text).toContain('app shell');
    expect((await call(fe.url, 'GET', '/chat/assets/app-7G2KQX9A.js')).text).toContain('console.log');
    expect((await call(fe.url, 'GET', '/chat/api/config')).body).toMatchObject({ name: 'Prefixed' });
    expect((await call(fe.url, 'GET', '/chat/ollama/api/tags')).status).toBe(401);
    const signup = await call(fe.url, 'POST', '/chat/api/v1/auths/signup', {
      body: { name: 'A', email: 'a@example.com', password: 'correct horse battery' },
    });
    expect(signup.status).toBe(200);
    // The session cookie is scoped to the prefix, which the forwarder reports to the backend.
    expect(signup.headers.get('set-cookie')).toMatch(/^token=[^;]+; Path=\/chat;/);
    const signout = await call(fe.url, 'POST', '/chat/api/v1/auths/signout');
    expect(signout.headers.get('set-cookie')).toMatch(/^token=; Path=\/chat;/);
    // A client cannot pick the cookie path of a frontend served at the root through the header:
    // this frontend overwrites it with its own prefix.
    const spoofed = await call(fe.url, 'POST', '/chat/api/v1/auths/signin', {
      body: { email: 'a@example.com', password: 'correct horse battery' },
      headers: { 'x-forwarded-prefix': '/elsewhere' },
    });
    expect(spoofed.headers.get('set-cookie')).toMatch(/Path=\/chat;/);
    // Probes on the pod port use unprefixed paths; those keep working.
    expect((await call(fe.url, 'GET', '/health')).status).toBe(200);
    expect((await call(fe.url, 'GET', '/ready')).status).toBe(200);
  });

  it('also works in --mode all, on one process', async () => {
    const s = await serve({ FRONTEND_BUILD_DIR: fakeBuild(), WEBUI_BASE_PATH: '/team/chat' });
    expect((await call(s.url, 'GET', '/team/chat/')).text).toContain('app shell');
    expect((await call(s.url, 'GET', '/team/chat/api/config')).status).toBe(200);
    const signup = await call(s.url, 'POST', '/team/chat/api/v1/auths/signup', {
      body: { name: 'B', email: 'b@example.com', password: 'correct horse battery' },
    });
    expect(signup.headers.get('set-cookie')).toMatch(/^token=[^;]+; Path=\/team\/chat;/);
    await expectJson404s(`${s.url}/team/chat`);
  });
});

describe('CORS_ALLOW_ORIGIN', () => {
  it('a list allows exactly those origins, with credentials', async () => {
    const s = await serve({ CORS_ALLOW_ORIGIN: 'http://localhost:5173;https://app.example.com' });
    const ok = await call(s.url, 'GET', '/api/config', { headers: { origin: 'http://localhost:5173' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const pre = await fetch(`${s.url}/api/v1/auths/signin`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await call(s.url, 'GET', '/api/config', { headers: { origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('* allows any origin without credentials, and warns (LOG_LEVEL=warn keeps warnings, drops info)', async () => {
    const s = await serve({ CORS_ALLOW_ORIGIN: '*', LOG_LEVEL: 'warn' });
    const r = await call(s.url, 'GET', '/api/config', { headers: { origin: 'http://anything.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(s.logs().some((l) => l.level === 40 && String(l.msg).includes('CORS_ALLOW_ORIGIN=*'))).toBe(true);
    // LOG_LEVEL sets the level: no "listening"/"ready"/request lines (info) at warn.
    expect(s.logs().filter((l) => (l.level as number) < 40)).toEqual([]);
  });
});

describe('startup errors', () => {
  it.each([
    [{ PORT: 'eighty' }, /^webui: PORT: expected a whole number/],
    [{ JWT_EXPIRES_IN: 'forever' }, /^webui: JWT_EXPIRES_IN: expected a duration/],
    [{ DATABASE_URL: 'mysql://x' }, /^webui: DATABASE_URL: expected postgres:\/\//],
    [{ CORS_ALLOW_ORIGIN: 'not a url' }, /^webui: CORS_ALLOW_ORIGIN: /],
    [
      { WEBUI_MANAGED_SETTINGS: 'PORT' },
      /^webui: WEBUI_MANAGED_SETTINGS: "PORT" is not a runtime-changeable setting/,
    ],
    [{ DEFAULT_USER_ROLE: 'root' }, /^webui: DEFAULT_USER_ROLE: expected one of pending, user, admin/],
    // Open WebUI silently falls back to 300 here; we stop.
    [{ AIOHTTP_CLIENT_TIMEOUT: '5m' }, /^webui: AIOHTTP_CLIENT_TIMEOUT: expected a number of seconds/],
    [{ LOG_LEVEL: 'verbose' }, /^webui: LOG_LEVEL: expected one of/],
    [{ WEBUI_BASE_PATH: 'chat' }, /^webui: WEBUI_BASE_PATH: expected a path such as \/chat/],
  ])('%o stops with one line naming the variable and exit code 2', async (env, line) => {
    const r = await runToExit({ DATA_DIR: dir('webui-bad-'), ...env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(line);
  });

  it('requires BACKEND_URL in --mode frontend', async () => {
    const r = await runToExit({}, ['serve', '--mode', 'frontend']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^webui: BACKEND_URL: required with --mode frontend/);
  });

  it('refuses an unknown mode or command', async () => {
    expect((await runToExit({}, ['serve', '--mode', 'both'])).stderr).toMatch(
      /^webui: --mode: expected one of all, api, frontend/,
    );
    expect((await runToExit({}, ['start'])).code).toBe(2);
  });

  it('generates the secret key once into DATA_DIR (mode 0600), reuses it after a restart, never logs it', async () => {
    const data = dir('webui-key-');
    const s = await spawnServer({ env: { DATA_DIR: data, FRONTEND_BUILD_DIR: data } });
    const { readFileSync, statSync } = await import('node:fs');
    const file = path.join(data, '.webui_secret_key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    const signup = await call(s.url, 'POST', '/api/v1/auths/signup', {
      body: { name: 'A', email: 'a@example.com', password: 'a-long-password' },
    });
    const token = (signup.body as { token: string }).token;
    const firstOutput = s.output();
    expect(firstOutput).toContain('generated a new WEBUI_SECRET_KEY');
    await s.stop();

    const again = await spawnServer({ env: { DATA_DIR: data, FRONTEND_BUILD_DIR: data } });
    servers.push(again);
    expect(readFileSync(file, 'utf8').trim()).toBe(key);
    // SQLite is a file under DATA_DIR.
    expect(statSync(path.join(data, 'webui.db')).isFile()).toBe(true);
    expect(again.output()).not.toContain('generated a new WEBUI_SECRET_KEY');
    // The session signed before the restart still verifies: same key.
    expect((await call(again.url, 'GET', '/api/v1/auths/', { token })).status).toBe(200);
    for (const out of [firstOutput, again.output()]) expect(out).not.toContain(key);
  });
});

describe('lifecycle', () => {
  it('is live but not ready, and the API answers 503, while the database is unreachable', async () => {
    const s = await spawnServer({
      env: { DATA_DIR: dir('webui-nodb-'), DATABASE_URL: 'postgres://webui@127.0.0.1:1/webui' },
      wait: 'health',
    });
    servers.push(s);
    expect((await call(s.url, 'GET', '/health')).status).toBe(200);
    const ready = await call(s.url, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect((ready.body as Json).detail).toBeTypeOf('string');
    const api = await call(s.url, 'GET', '/api/config');
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    expect((await call(s.url, 'GET', '/api/version')).status).toBe(200);
    expect((await call(s.url, 'GET', '/health/db')).status).toBe(503);
    // The URL's password-less user is fine to show; the URL itself is never logged.
    expect(s.output()).not.toContain('postgres://webui@');
  });

  it('refuses a body over the limit with 413', async () => {
    const s = await serve({});
    const big = { name: 'x', email: 'x@example.com', password: 'y'.repeat(2 * 1024 * 1024) };
    const r = await call(s.url, 'POST', '/api/v1/auths/signup', { body: big });
    expect(r.status).toBe(413);
    expect((r.body as Json).detail).toMatch(/larger than/);
  });

  it('exits 0 on SIGTERM', async () => {
    const s = await serve({});
    const exit = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
    s.proc.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(s.output()).toContain('shutting down');
  });
});
