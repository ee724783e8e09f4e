/**
 * The real `webui serve` process against a real SQLite file and a real
 * Postgres 15: signup rules, roles on every route group, chats, admin config,
 * precedence with managed settings, config reset tokens across restarts,
 * sign-in rate limiting and log hygiene.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from './auth/token.ts';
import { call, type DbBackend, postgresBackend, sqliteBackend } from './testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from './testing/server-process.ts';

const SECRET = 'integration-test-secret-key-0123456789';
const ADMIN = { name: 'Ada Admin', email: 'Ada@Example.com', password: 'correct horse battery' };
const BOB = { name: 'Bob', email: 'bob@example.com', password: 'bobs-password-42' };
const CAROL = { name: 'Carol', email: 'carol@example.com', password: 'carols-password-42' };

type Json = Record<string, unknown>;

// Postgres is required, not optional: startPostgres() fails with a clear message when it is missing.
const backends: Array<() => DbBackend> = [sqliteBackend, postgresBackend];

const emptyFrontend = tempDir('webui-nofe-');
afterAll(() => emptyFrontend.remove());

describe.each(backends.map((b) => [b().name, b] as const))('webui serve on %s', (_name, makeBackend) => {
  const backend = makeBackend();
  const running: ServerProcess[] = [];

  async function start(dbEnv: Record<string, string>, extra: Record<string, string> = {}) {
    const s = await spawnServer({
      env: { WEBUI_SECRET_KEY: SECRET, FRONTEND_BUILD_DIR: emptyFrontend.dir, ...dbEnv, ...extra },
    });
    running.push(s);
    return s;
  }
  async function stop(s: ServerProcess) {
    await s.stop();
    running.splice(running.indexOf(s), 1);
  }

  afterAll(async () => {
    for (const s of running.splice(0)) await s.stop();
    await backend.cleanup();
  });

  describe('signup, roles, users and chats', () => {
    let s: ServerProcess;
    let adminToken: string;
    let bobToken: string;
    let bobId: string;
    let adminId: string;

    beforeAll(async () => {
      s = await start(await backend.fresh());
    });

    it('is open for onboarding while no user exists', async () => {
      const r = await call(s.url, 'GET', '/api/config');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        name: 'WebUI',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        onboarding: true,
        features: { auth: true, enable_signup: true, enable_login_form: true },
      });
    });

    it('makes the first account admin, sets an httpOnly SameSite=Lax cookie, and closes signup', async () => {
      const r = await call(s.url, 'POST', '/api/v1/auths/signup', { body: ADMIN });
      expect(r.status).toBe(200);
      const b = r.body as Json;
      expect(b).toMatchObject({
        token_type: 'Bearer',
        email: 'ada@example.com',
        name: ADMIN.name,
        role: 'admin',
      });
      // JWT_EXPIRES_IN defaults to 4w.
      const lifetime = (b.expires_at as number) - Date.now() / 1000;
      expect(lifetime).toBeGreaterThan(28 * 86400 - 3600);
      expect(lifetime).toBeLessThanOrEqual(28 * 86400);
      expect(b.permissions).toBeTypeOf('object');
      adminToken = b.token as string;
      adminId = b.id as string;
      const cookie = r.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^token=/);
      expect(cookie.toLowerCase()).toContain('httponly');
      expect(cookie.toLowerCase()).toContain('samesite=lax');

      const cfg = await call(s.url, 'GET', '/api/config');
      expect(cfg.body).toMatchObject({ features: { enable_signup: false } });
      expect((cfg.body as Json).onboarding).toBeUndefined();
    });

    it('refuses a direct POST /signup while signup is closed (open-webui#7440)', async () => {
      const r = await call(s.url, 'POST', '/api/v1/auths/signup', { body: BOB });
      expect(r.status).toBe(403);
      expect((r.body as Json).detail).toMatch(/disabled/i);
    });

    it('shows the automatic close as a saved setting in the admin config', async () => {
      const r = await call(s.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        ENABLE_SIGNUP: false,
        DEFAULT_USER_ROLE: 'pending',
        JWT_EXPIRES_IN: '4w',
        SHOW_ADMIN_DETAILS: true,
        WEBUI_URL: 'http://localhost:8080',
        MANAGED: [],
        SOURCES: { ENABLE_SIGNUP: 'saved', DEFAULT_USER_ROLE: 'default' },
        CONFIG_RESET: null,
      });
    });

    it('reopens signup from the admin toggle; later accounts get DEFAULT_USER_ROLE (pending)', async () => {
      const on = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token: adminToken,
        body: { ENABLE_SIGNUP: true },
      });
      expect(on.status).toBe(200);
      expect(on.body).toMatchObject({ ENABLE_SIGNUP: true });
      const r = await call(s.url, 'POST', '/api/v1/auths/signup', { body: BOB });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ role: 'pending' });
      bobToken = (r.body as Json).token as string;
      bobId = (r.body as Json).id as string;
      const off = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token: adminToken,
        body: { ENABLE_SIGNUP: false },
      });
      expect(off.body).toMatchObject({ ENABLE_SIGNUP: false });
      expect((await call(s.url, 'POST', '/api/v1/auths/signup', { body: CAROL })).status).toBe(403);
    });

    it('refuses a taken email and a malformed body with a readable detail', async () => {
      await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token: adminToken,
        body: { ENABLE_SIGNUP: true },
      });
      const taken = await call(s.url, 'POST', '/api/v1/auths/signup', {
        body: { ...BOB, email: 'BOB@example.com' },
      });
      expect(taken.status).toBe(400);
      expect((taken.body as Json).detail).toMatch(/already registered/);
      const bad = await call(s.url, 'POST', '/api/v1/auths/signup', {
        body: { name: 'x', email: 'not-an-email', password: 'p' },
      });
      expect(bad.status).toBe(422);
      expect((bad.body as Json).detail).toMatch(/email: Invalid email format/);
      expect((bad.body as Json).detail).toMatch(/password:/);
      await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token: adminToken,
        body: { ENABLE_SIGNUP: false },
      });
    });

    it('lets a pending user see only their session, never chats, users, admin config or /ollama', async () => {
      expect((await call(s.url, 'GET', '/api/v1/auths/', { token: bobToken })).body).toMatchObject({
        role: 'pending',
      });
      expect((await call(s.url, 'GET', '/api/v1/auths/admin/details', { token: bobToken })).body).toEqual({
        name: ADMIN.name,
        email: 'ada@example.com',
      });
      for (const [method, path] of [
        ['GET', '/api/v1/chats/'],
        ['POST', '/api/v1/chats/new'],
        ['GET', '/api/v1/users/'],
        ['GET', '/api/v1/auths/admin/config'],
        ['POST', '/api/v1/auths/add'],
        ['GET', '/ollama/api/tags'],
        ['POST', '/ollama/api/chat'],
      ] as const) {
        const r = await call(s.url, method, path, {
          token: bobToken,
          body: method === 'POST' ? {} : undefined,
        });
        expect([path, r.status]).toEqual([path, 403]);
        expect((r.body as Json).detail).toBeTypeOf('string');
      }
    });

    it('answers 401 without a session, and with a bad or expired token, on every protected route group', async () => {
      const expired = issueToken(adminId, SECRET, 1000, Date.now() - 60_000).token;
      const forged = issueToken(adminId, 'some-other-key', 3600_000).token;
      for (const token of [undefined, 'garbage', expired, forged]) {
        for (const [method, path] of [
          ['GET', '/api/v1/auths/'],
          ['GET', '/api/v1/auths/admin/details'],
          ['GET', '/api/v1/auths/admin/config'],
          ['POST', '/api/v1/auths/admin/config'],
          ['POST', '/api/v1/auths/add'],
          ['GET', '/api/v1/users/'],
          ['POST', '/api/v1/users/update/role'],
          ['DELETE', `/api/v1/users/${bobId}`],
          ['GET', '/api/v1/chats/'],
          ['POST', '/api/v1/chats/new'],
          ['GET', '/ollama/api/tags'],
          ['POST', '/ollama/api/pull'],
        ] as const) {
          const r = await call(s.url, method, path, {
            ...(token ? { token } : {}),
            body: method === 'POST' ? {} : undefined,
          });
          expect([path, token === undefined ? 'none' : 'bad', r.status]).toEqual([
            path,
            token === undefined ? 'none' : 'bad',
            401,
          ]);
        }
      }
      // A stale token must not break the login page.
      const cfg = await call(s.url, 'GET', '/api/config', { token: expired });
      expect(cfg.status).toBe(200);
      expect(cfg.body).toMatchObject({ features: { enable_signup: false } });
    });

    it('marks the cookie Secure when a trusted proxy says the client used HTTPS', async () => {
      const r = await call(s.url, 'POST', '/api/v1/auths/signin', {
        body: { email: ADMIN.email, password: ADMIN.password },
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('set-cookie') ?? '').toMatch(/; Secure/);
      const plain = await call(s.url, 'POST', '/api/v1/auths/signin', {
        body: { email: ADMIN.email, password: ADMIN.password },
      });
      expect(plain.headers.get('set-cookie') ?? '').not.toMatch(/Secure/);
    });

    it('accepts the token from the cookie as well as the Bearer header', async () => {
      const r = await call(s.url, 'GET', '/api/v1/auths/', { headers: { cookie: `token=${adminToken}` } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: adminId, role: 'admin' });
    });

    it('lets an admin list users and approve a pending one', async () => {
      const list = await call(s.url, 'GET', '/api/v1/users/', { token: adminToken });
      expect(list.status).toBe(200);
      const users = (list.body as { users: Json[] }).users;
      expect(users.map((u) => u.email)).toEqual(['ada@example.com', 'bob@example.com']);
      expect(Object.keys(users[0] as Json).sort()).toEqual(
        [
          'created_at',
          'email',
          'id',
          'last_active_at',
          'name',
          'profile_image_url',
          'role',
          'updated_at',
        ].sort(),
      );
      const approve = await call(s.url, 'POST', '/api/v1/users/update/role', {
        token: adminToken,
        body: { id: bobId, role: 'user' },
      });
      expect(approve.status).toBe(200);
      expect(approve.body).toMatchObject({ id: bobId, role: 'user' });
      expect((await call(s.url, 'GET', '/api/v1/chats/', { token: bobToken })).status).toBe(200);
      expect((await call(s.url, 'GET', '/api/v1/users/', { token: bobToken })).status).toBe(403);
      const badRole = await call(s.url, 'POST', `/api/v1/users/${bobId}/update`, {
        token: adminToken,
        body: { role: 'root' },
      });
      expect(badRole.status).toBe(422);
    });

    it('refuses to demote or delete the last admin, and to delete yourself', async () => {
      const demote = await call(s.url, 'POST', '/api/v1/users/update/role', {
        token: adminToken,
        body: { id: adminId, role: 'user' },
      });
      expect(demote.status).toBe(409);
      expect((demote.body as Json).detail).toMatch(/last admin/);
      const self = await call(s.url, 'DELETE', `/api/v1/users/${adminId}`, { token: adminToken });
      expect(self.status).toBe(400);
      expect((await call(s.url, 'GET', '/api/v1/auths/', { token: adminToken })).status).toBe(200);
    });

    it('keeps chats per user: create, list newest first, rename, read, delete; others get 404', async () => {
      const mk = (title: string) =>
        call(s.url, 'POST', '/api/v1/chats/new', {
          token: bobToken,
          body: { chat: { title, models: ['llama3'], messages: [{ role: 'user', content: title }] } },
        });
      const first = await mk('first');
      expect(first.status).toBe(200);
      const c1 = first.body as Json;
      expect(c1).toMatchObject({
        user_id: bobId,
        title: 'first',
        chat: { title: 'first', models: ['llama3'] },
      });
      expect(c1.created_at).toBeTypeOf('number');
      const c2 = (await mk('second')).body as Json;
      const list = await call(s.url, 'GET', '/api/v1/chats/', { token: bobToken });
      expect((list.body as Json[]).map((c) => c.title)).toEqual(['second', 'first']);
      expect(Object.keys((list.body as Json[])[0] as Json).sort()).toEqual([
        'created_at',
        'id',
        'title',
        'updated_at',
      ]);

      const renamed = await call(s.url, 'POST', `/api/v1/chats/${c1.id}`, {
        token: bobToken,
        body: { chat: { title: 'renamed' } },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({
        title: 'renamed',
        chat: { title: 'renamed', models: ['llama3'] },
      });
      const after = await call(s.url, 'GET', '/api/v1/chats/', { token: bobToken });
      expect((after.body as Json[]).map((c) => c.title)).toEqual(['renamed', 'second']);

      expect((await call(s.url, 'GET', `/api/v1/chats/${c1.id}`, { token: bobToken })).body).toMatchObject({
        id: c1.id,
      });
      for (const [method, body] of [
        ['GET', undefined],
        ['POST', { chat: { title: 'hijack' } }],
        ['DELETE', undefined],
      ] as const) {
        const r = await call(s.url, method, `/api/v1/chats/${c2.id}`, { token: adminToken, body });
        expect(r.status).toBe(404);
      }
      expect((await call(s.url, 'GET', '/api/v1/chats/', { token: adminToken })).body).toEqual([]);
      const del = await call(s.url, 'DELETE', `/api/v1/chats/${c2.id}`, { token: bobToken });
      expect(del.body).toBe(true);
      expect((await call(s.url, 'GET', `/api/v1/chats/${c2.id}`, { token: bobToken })).status).toBe(404);
    });

    it('refuses invalid admin config values with 400 and a message, and changes nothing', async () => {
      for (const body of [
        { JWT_EXPIRES_IN: 'forever' },
        { DEFAULT_USER_ROLE: 'root' },
        { WEBUI_URL: 'ftp://x' },
        { ENABLE_SIGNUP: 'yes' },
      ]) {
        const r = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
          token: adminToken,
          body: { SHOW_ADMIN_DETAILS: false, ...body },
        });
        expect(r.status).toBe(400);
        expect((r.body as Json).detail).toContain(Object.keys(body)[0] as string);
      }
      const cfg = await call(s.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
      expect(cfg.body).toMatchObject({ SHOW_ADMIN_DETAILS: true });
    });

    it('lets an admin add an account while signup is closed; the new user can sign in', async () => {
      const add = await call(s.url, 'POST', '/api/v1/auths/add', {
        token: adminToken,
        body: { ...CAROL, role: 'user' },
      });
      expect(add.status).toBe(200);
      expect(add.body).toMatchObject({ email: CAROL.email, role: 'user' });
      const signin = await call(s.url, 'POST', '/api/v1/auths/signin', {
        body: { email: CAROL.email.toUpperCase(), password: CAROL.password },
      });
      expect(signin.status).toBe(200);
      expect(signin.body).toMatchObject({ role: 'user', token_type: 'Bearer' });
    });

    it('lets a user change their own password and profile', async () => {
      const signin = await call(s.url, 'POST', '/api/v1/auths/signin', {
        body: { email: CAROL.email, password: CAROL.password },
      });
      let carol = (signin.body as Json).token as string;
      const wrong = await call(s.url, 'POST', '/api/v1/auths/update/password', {
        token: carol,
        body: { password: 'not-my-password', new_password: 'brand-new-password' },
      });
      expect(wrong.status).toBe(400);
      const ok = await call(s.url, 'POST', '/api/v1/auths/update/password', {
        token: carol,
        body: { password: CAROL.password, new_password: 'brand-new-password' },
      });
      expect(ok.body).toBe(true);
      // Every earlier token stops working; the response carries a new session cookie.
      expect((await call(s.url, 'GET', '/api/v1/auths/', { token: carol })).status).toBe(401);
      carol = /^token=([^;]+)/.exec(ok.headers.get('set-cookie') ?? '')?.[1] ?? '';
      expect(
        (
          await call(s.url, 'POST', '/api/v1/auths/signin', {
            body: { email: CAROL.email, password: CAROL.password },
          })
        ).status,
      ).toBe(400);
      const again = await call(s.url, 'POST', '/api/v1/auths/signin', {
        body: { email: CAROL.email, password: 'brand-new-password' },
      });
      expect(again.status).toBe(200);
      // Back to the original, which later tests use.
      const back = await call(s.url, 'POST', '/api/v1/auths/update/password', {
        token: carol,
        body: { password: 'brand-new-password', new_password: CAROL.password },
      });
      expect(back.body).toBe(true);
      carol = /^token=([^;]+)/.exec(back.headers.get('set-cookie') ?? '')?.[1] ?? '';
      const profile = await call(s.url, 'POST', '/api/v1/auths/update/profile', {
        token: carol,
        body: { name: 'Carol C.' },
      });
      expect(profile.body).toMatchObject({ name: 'Carol C.', email: CAROL.email });
      expect(
        (await call(s.url, 'POST', '/api/v1/auths/update/profile', { body: { name: 'x' } })).status,
      ).toBe(401);
    });

    it('signs out by clearing the cookie and ending every session of the account', async () => {
      const r = await call(s.url, 'POST', '/api/v1/auths/signout', { token: adminToken });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: true });
      expect(r.headers.get('set-cookie') ?? '').toMatch(/^token=;/);
      expect((await call(s.url, 'GET', '/api/v1/auths/', { token: adminToken })).status).toBe(401);
      const again = await call(s.url, 'POST', '/api/v1/auths/signin', { body: ADMIN });
      expect(again.status).toBe(200);
      adminToken = (again.body as Json).token as string;
    });

    it('rate-limits sign-in per email with 429 and Retry-After', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) {
        const r = await call(s.url, 'POST', '/api/v1/auths/signin', {
          body: { email: BOB.email, password: `wrong-${i}` },
        });
        statuses.push(r.status);
        if (r.status === 429) {
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
          expect((r.body as Json).detail).toMatch(/Too many sign-in attempts/);
        }
      }
      expect(statuses.slice(0, 15)).toEqual(Array(15).fill(400));
      expect(statuses[15]).toBe(429);
      // Even the right password is refused while limited; another email is not.
      expect(
        (
          await call(s.url, 'POST', '/api/v1/auths/signin', {
            body: { email: BOB.email, password: BOB.password },
          })
        ).status,
      ).toBe(429);
      expect(
        (
          await call(s.url, 'POST', '/api/v1/auths/signin', {
            body: { email: CAROL.email, password: CAROL.password },
          })
        ).status,
      ).toBe(200);
    });

    it('rate-limits sign-in per client address too (X-Forwarded-For from a trusted proxy)', async () => {
      const from = { 'x-forwarded-for': '198.51.100.23' };
      const statuses: number[] = [];
      for (let i = 0; i < 61; i++) {
        const r = await call(s.url, 'POST', '/api/v1/auths/signin', {
          body: { email: `nobody-${i}@example.com`, password: 'whatever-1' },
          headers: from,
        });
        statuses.push(r.status);
      }
      expect(statuses.slice(0, 60).every((st) => st === 400)).toBe(true);
      expect(statuses[60]).toBe(429);
      // Another client is unaffected.
      const other = await call(s.url, 'POST', '/api/v1/auths/signin', {
        body: { email: CAROL.email, password: CAROL.password },
        headers: { 'x-forwarded-for': '198.51.100.99' },
      });
      expect(other.status).toBe(200);
    });

    it('answers unknown /api and /ollama paths with a JSON 404', async () => {
      for (const path of ['/api/v1/nope', '/api/nope', '/ollama/nope/at/all']) {
        const r = await call(s.url, 'GET', path, { token: adminToken });
        expect([path, r.status]).toEqual([path, 404]);
        expect(r.headers.get('content-type')).toMatch(/json/);
        expect((r.body as Json).detail).toBeTypeOf('string');
      }
    });

    it('lets an admin delete a user, whose session then stops working', async () => {
      expect((await call(s.url, 'GET', '/api/v1/auths/', { token: bobToken })).status).toBe(200);
      const del = await call(s.url, 'DELETE', `/api/v1/users/${bobId}`, { token: adminToken });
      expect(del.status).toBe(200);
      expect(del.body).toBe(true);
      expect((await call(s.url, 'GET', '/api/v1/auths/', { token: bobToken })).status).toBe(401);
      expect((await call(s.url, 'GET', '/api/v1/chats/', { token: bobToken })).status).toBe(401);
      const users = (await call(s.url, 'GET', '/api/v1/users/', { token: adminToken })).body as {
        users: Json[];
      };
      expect(users.users.map((u) => u.email)).not.toContain(BOB.email);
      expect((await call(s.url, 'DELETE', `/api/v1/users/${bobId}`, { token: adminToken })).status).toBe(404);
    });

    it('never writes passwords, tokens, cookies or the secret key to its logs', async () => {
      const out = s.output();
      expect(out).toContain('"path":"/api/v1/auths/signin"');
      for (const secret of [
        ADMIN.password,
        BOB.password,
        CAROL.password,
        adminToken,
        bobToken,
        SECRET,
        'wrong-3',
      ]) {
        expect(out).not.toContain(secret);
      }
      expect(out.toLowerCase()).not.toContain('bearer ');
    });

    it('checks the database on /health/db and reports versions', async () => {
      expect((await call(s.url, 'GET', '/health/db')).body).toEqual({ status: true });
      const v = await call(s.url, 'GET', '/api/version');
      expect(v.body).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
      expect((v.body as Json).deployment_id).toBeTypeOf('string');
    });
  });

  describe('simultaneous first signups', () => {
    it('make exactly one admin; the rest find signup closed', async () => {
      const s = await start(await backend.fresh());
      const people = ['p1', 'p2', 'p3', 'p4'].map((n) => ({
        name: n,
        email: `${n}@example.com`,
        password: `${n}-password`,
      }));
      const results = await Promise.all(
        people.map((body) => call(s.url, 'POST', '/api/v1/auths/signup', { body })),
      );
      const ok = results.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      expect(ok[0]?.body).toMatchObject({ role: 'admin' });
      expect(results.filter((r) => r.status === 403)).toHaveLength(3);
      await stop(s);
    });
  });

  describe('which setting wins, across restarts', () => {
    let dbEnv: Record<string, string>;
    let token: string;

    beforeAll(async () => {
      dbEnv = await backend.fresh();
    });

    const adminConfig = async (s: ServerProcess) =>
      (await call(s.url, 'GET', '/api/v1/auths/admin/config', { token })).body as Json;

    it('env beats the default; a saved admin value beats env on the next start', async () => {
      const s = await start(dbEnv, { DEFAULT_USER_ROLE: 'user' });
      token = ((await call(s.url, 'POST', '/api/v1/auths/signup', { body: ADMIN })).body as Json)
        .token as string;
      expect(await adminConfig(s)).toMatchObject({
        DEFAULT_USER_ROLE: 'user',
        SOURCES: { DEFAULT_USER_ROLE: 'env' },
      });
      const set = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token,
        body: { DEFAULT_USER_ROLE: 'pending', JWT_EXPIRES_IN: '12h' },
      });
      expect(set.status).toBe(200);
      await stop(s);

      const s2 = await start(dbEnv, { DEFAULT_USER_ROLE: 'user' });
      expect(await adminConfig(s2)).toMatchObject({
        DEFAULT_USER_ROLE: 'pending',
        JWT_EXPIRES_IN: '12h',
        SOURCES: { DEFAULT_USER_ROLE: 'saved', JWT_EXPIRES_IN: 'saved' },
      });
      // The saved JWT_EXPIRES_IN applies to new sessions.
      const signin = await call(s2.url, 'POST', '/api/v1/auths/signin', {
        body: { email: ADMIN.email, password: ADMIN.password },
      });
      const exp = (signin.body as Json).expires_at as number;
      expect(exp - Date.now() / 1000).toBeGreaterThan(11 * 3600);
      expect(exp - Date.now() / 1000).toBeLessThanOrEqual(12 * 3600);
      await stop(s2);
    });

    it('a managed setting comes from env, is listed as managed, and cannot be changed (409)', async () => {
      const s = await start(dbEnv, {
        WEBUI_MANAGED_SETTINGS: 'DEFAULT_USER_ROLE,ENABLE_SIGNUP',
        DEFAULT_USER_ROLE: 'user',
        ENABLE_SIGNUP: 'false',
      });
      const cfg = await adminConfig(s);
      expect(cfg).toMatchObject({
        DEFAULT_USER_ROLE: 'user',
        SOURCES: { DEFAULT_USER_ROLE: 'managed', ENABLE_SIGNUP: 'managed' },
      });
      expect(cfg.MANAGED).toEqual(['DEFAULT_USER_ROLE', 'ENABLE_SIGNUP']);
      const r = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token,
        body: { DEFAULT_USER_ROLE: 'admin', SHOW_ADMIN_DETAILS: false },
      });
      expect(r.status).toBe(409);
      expect((r.body as Json).detail).toBe(
        'DEFAULT_USER_ROLE is managed by the deployment (e.g. the WebUI resource) and cannot be changed here',
      );
      // Nothing else in that request was written.
      expect(await adminConfig(s)).toMatchObject({ SHOW_ADMIN_DETAILS: true });
      const sig = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token,
        body: { ENABLE_SIGNUP: true },
      });
      expect(sig.status).toBe(409);
      expect((sig.body as Json).detail).toMatch(/^ENABLE_SIGNUP is managed by the deployment/);
      // Posting the current values back (as a settings form does) is fine.
      const same = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token,
        body: { DEFAULT_USER_ROLE: 'user', ENABLE_SIGNUP: false },
      });
      expect(same.status).toBe(200);
      await stop(s);
    });

    it('ENABLE_PERSISTENT_CONFIG=false: env wins over saved values, and changes are refused', async () => {
      const s = await start(dbEnv, { ENABLE_PERSISTENT_CONFIG: 'false', DEFAULT_USER_ROLE: 'user' });
      expect(await adminConfig(s)).toMatchObject({
        DEFAULT_USER_ROLE: 'user',
        JWT_EXPIRES_IN: '4w',
        SOURCES: { DEFAULT_USER_ROLE: 'env', JWT_EXPIRES_IN: 'default' },
      });
      const r = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
        token,
        body: { DEFAULT_USER_ROLE: 'pending' },
      });
      expect(r.status).toBe(409);
      expect((r.body as Json).detail).toMatch(/ENABLE_PERSISTENT_CONFIG=false/);
      await stop(s);
    });

    it('ENABLE_SIGNUP=true in env reopens signup that closed automatically', async () => {
      const closed = await start(dbEnv);
      expect((await call(closed.url, 'GET', '/api/config')).body).toMatchObject({
        features: { enable_signup: false },
      });
      await stop(closed);
      const s = await start(dbEnv, { ENABLE_SIGNUP: 'true' });
      expect((await call(s.url, 'GET', '/api/config')).body).toMatchObject({
        features: { enable_signup: true },
      });
      const r = await call(s.url, 'POST', '/api/v1/auths/signup', { body: BOB });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ role: 'pending' });
      await stop(s);
    });
  });

  describe('RESET_CONFIG_ON_START', () => {
    let dbEnv: Record<string, string>;
    let token: string;
    let chatId: string;

    beforeAll(async () => {
      dbEnv = await backend.fresh();
      const s = await start(dbEnv);
      token = ((await call(s.url, 'POST', '/api/v1/auths/signup', { body: ADMIN })).body as Json)
        .token as string;
      chatId = (
        (await call(s.url, 'POST', '/api/v1/chats/new', { token, body: { chat: { title: 'kept' } } }))
          .body as Json
      ).id as string;
      await call(s.url, 'POST', '/api/v1/auths/admin/config', { token, body: { SHOW_ADMIN_DETAILS: false } });
      await stop(s);
    });

    const showAdmin = async (s: ServerProcess) =>
      ((await call(s.url, 'GET', '/api/v1/auths/admin/config', { token })).body as Json).SHOW_ADMIN_DETAILS;
    const hide = (s: ServerProcess) =>
      call(s.url, 'POST', '/api/v1/auths/admin/config', { token, body: { SHOW_ADMIN_DETAILS: false } });

    it('with a token: resets once, keeps users and chats, keeps signup closed, and records the token', async () => {
      const s = await start(dbEnv, { RESET_CONFIG_ON_START: 'true', CONFIG_RESET_TOKEN: 'rollout-1' });
      expect(await showAdmin(s)).toBe(true);
      // The reset ran before the settings were loaded: the first load already saw nothing saved.
      const loaded = s.logs().find((l) => String(l.msg).startsWith('effective settings')) as {
        settings: Record<string, { source: string }>;
      };
      expect(loaded.settings.SHOW_ADMIN_DETAILS?.source).toBe('default');
      expect(loaded.settings.ENABLE_SIGNUP?.source).toBe('default');
      const cfg = (await call(s.url, 'GET', '/api/v1/auths/admin/config', { token })).body as Json;
      expect(cfg.ENABLE_SIGNUP).toBe(false);
      expect(cfg.CONFIG_RESET).toMatchObject({ token: 'rollout-1', applied_at: expect.any(Number) });
      expect((await call(s.url, 'GET', `/api/v1/chats/${chatId}`, { token })).status).toBe(200);
      expect((await call(s.url, 'POST', '/api/v1/auths/signup', { body: BOB })).status).toBe(403);
      expect((await call(s.url, 'GET', '/api/config')).body).toMatchObject({
        features: { enable_signup: false },
      });
      expect(s.output()).not.toMatch(/EVERY start/);
      await hide(s);
      await stop(s);
    });

    it('with the same token again: nothing is reset', async () => {
      const s = await start(dbEnv, { RESET_CONFIG_ON_START: 'true', CONFIG_RESET_TOKEN: 'rollout-1' });
      expect(await showAdmin(s)).toBe(false);
      await stop(s);
      const again = await start(dbEnv, { RESET_CONFIG_ON_START: 'true', CONFIG_RESET_TOKEN: 'rollout-1' });
      expect(await showAdmin(again)).toBe(false);
      await stop(again);
    });

    it('with a new token: resets once more', async () => {
      const s = await start(dbEnv, { RESET_CONFIG_ON_START: 'true', CONFIG_RESET_TOKEN: 'rollout-2' });
      expect(await showAdmin(s)).toBe(true);
      const cfg = (await call(s.url, 'GET', '/api/v1/auths/admin/config', { token })).body as Json;
      expect(cfg.CONFIG_RESET).toMatchObject({ token: 'rollout-2' });
      await hide(s);
      await stop(s);
    });

    it('without a token: resets on every start and warns every time', async () => {
      for (let i = 0; i < 2; i++) {
        const s = await start(dbEnv, { RESET_CONFIG_ON_START: 'true' });
        expect(await showAdmin(s)).toBe(true);
        const warning = s
          .logs()
          .find((l) => l.level === 40 && String(l.msg).includes('RESET_CONFIG_ON_START'));
        expect(warning?.msg).toMatch(/EVERY start.*Remove the variable/);
        expect((await call(s.url, 'POST', '/api/v1/auths/signup', { body: BOB })).status).toBe(403);
        await hide(s);
        await stop(s);
      }
      const s = await start(dbEnv);
      expect(await showAdmin(s)).toBe(false);
      await stop(s);
    });
  });

  describe.runIf(backend.name === 'postgres')('several replicas on one Postgres', () => {
    it('start together (migrations and a reset token run once) and agree on saved settings', async () => {
      const dbEnv = await backend.fresh();
      const reset = { RESET_CONFIG_ON_START: 'true', CONFIG_RESET_TOKEN: 'together' };
      const [a, b] = await Promise.all([start(dbEnv, reset), start(dbEnv, reset)]);
      const applied = [a, b].filter((s) =>
        s.output().includes('token applied; later starts will not reset again'),
      );
      expect(applied).toHaveLength(1);
      const token = ((await call(a.url, 'POST', '/api/v1/auths/signup', { body: ADMIN })).body as Json)
        .token as string;
      // Same secret key, same database: B accepts A's session and sees signup closed.
      expect((await call(b.url, 'GET', '/api/v1/auths/', { token })).status).toBe(200);
      await call(a.url, 'POST', '/api/v1/auths/admin/config', { token, body: { SHOW_ADMIN_DETAILS: false } });
      let seen: unknown;
      for (let i = 0; i < 50 && seen !== false; i++) {
        seen = ((await call(b.url, 'GET', '/api/v1/auths/admin/config', { token })).body as Json)
          .SHOW_ADMIN_DETAILS;
        if (seen !== false) await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen).toBe(false);
      expect((await call(b.url, 'POST', '/api/v1/auths/signup', { body: BOB })).status).toBe(403);

      // B reuses a session user for up to SESSION_CACHE_TTL_MS; a role change on A reaches it within that.
      const added = await call(a.url, 'POST', '/api/v1/auths/add', {
        token,
        body: { ...CAROL, role: 'user' },
      });
      expect(added.status).toBe(200);
      const carol = (await call(a.url, 'POST', '/api/v1/auths/signin', { body: CAROL })).body as Json;
      expect((await call(b.url, 'GET', '/api/v1/chats/', { token: carol.token as string })).status).toBe(200);
      const demoted = await call(a.url, 'POST', '/api/v1/users/update/role', {
        token,
        body: { id: carol.id, role: 'pending' },
      });
      expect(demoted.status).toBe(200);
      const changedAt = Date.now();
      let status = 200;
      while (status === 200 && Date.now() - changedAt < 5000) {
        status = (await call(b.url, 'GET', '/api/v1/chats/', { token: carol.token as string })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(403);
      await stop(a);
      await stop(b);
    });

    it('share one sign-in limit: attempts on one replica count on the other', async () => {
      const dbEnv = await backend.fresh();
      const [a, b] = await Promise.all([start(dbEnv), start(dbEnv)]);
      await call(a.url, 'POST', '/api/v1/auths/signup', { body: ADMIN });
      // 15 per email per window: 8 wrong passwords on A and 7 on B use it up.
      for (let i = 0; i < 15; i++) {
        const r = await call(i % 2 === 0 ? a.url : b.url, 'POST', '/api/v1/auths/signin', {
          body: { email: ADMIN.email, password: `wrong-${i}` },
        });
        expect(r.status).toBe(400);
      }
      for (const s of [a, b]) {
        const r = await call(s.url, 'POST', '/api/v1/auths/signin', {
          body: { email: ADMIN.email, password: ADMIN.password },
        });
        expect(r.status).toBe(429);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      await stop(a);
      await stop(b);
    });
  });
});
