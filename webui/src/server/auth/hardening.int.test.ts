/**
 * Issue 14's attacks on accounts and sessions, against the real `webui serve`
 * process on SQLite and on Postgres (where two replicas share one database):
 * concurrent wrong sign-ins against the rate limit, simultaneous first
 * sign-ups, admins demoting each other, concurrent email changes, sessions
 * after sign-out and password change, tokens without `exp`, short secret
 * keys, and the open sign-up limit. Each test reproduced its attack before
 * the fix.
 */
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/orm.ts';
import { call, type DbBackend, postgresBackend, sqliteBackend } from '../testing/backends.ts';
import { runToExit, type ServerProcess, spawnServer, tempDir } from '../testing/server-process.ts';

const SECRET = 'hardening-test-secret-key-0123456789abcdef';
const ADMIN = { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' };
const PASSWORD = 'a-good-long-password';

type Json = Record<string, unknown>;

const emptyFrontend = tempDir('webui-nofe-');
afterAll(() => emptyFrontend.remove());

/** A client address per request, so that one test's sign-ups and sign-ins do not use up another's limit. */
let nextAddress = 0;
const fresh = () => ({
  'x-forwarded-for': `198.51.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`,
});

/** An HS256 token signed with the right key, with the claims given (e.g. no `exp`). */
function signedToken(claims: Json, secret = SECRET): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const statusCounts = (rs: Array<{ status: number }>) => {
  const out: Record<number, number> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
};

describe.each([sqliteBackend, postgresBackend].map((b) => [b().name, b] as const))(
  'attacks on %s',
  (name, makeBackend) => {
    const backend: DbBackend = makeBackend();
    const running: ServerProcess[] = [];
    const databases: Database[] = [];
    const pg = name === 'postgres';

    afterAll(async () => {
      for (const s of running.splice(0)) await s.stop();
      for (const d of databases.splice(0)) await d.close();
      await backend.cleanup();
    });

    async function start(dbEnv: Record<string, string>, extra: Record<string, string> = {}) {
      const s = await spawnServer({
        env: { WEBUI_SECRET_KEY: SECRET, FRONTEND_BUILD_DIR: emptyFrontend.dir, ...dbEnv, ...extra },
      });
      running.push(s);
      return s;
    }

    /** One server on SQLite; two replicas on one database on Postgres. */
    async function replicas(dbEnv: Record<string, string>, extra: Record<string, string> = {}) {
      return pg ? Promise.all([start(dbEnv, extra), start(dbEnv, extra)]) : [await start(dbEnv, extra)];
    }

    /** The test's own connection to a Postgres database the servers use. */
    async function direct(dbEnv: Record<string, string>): Promise<Database> {
      const db = await openDatabase({ databaseUrl: dbEnv.DATABASE_URL, dataDir: dbEnv.DATA_DIR ?? '' });
      databases.push(db);
      return db;
    }

    async function signUpAdmin(url: string): Promise<{ token: string; id: string }> {
      const r = await call(url, 'POST', '/api/v1/auths/signup', { body: ADMIN, headers: fresh() });
      expect(r.status).toBe(200);
      const b = r.body as Json;
      return { token: b.token as string, id: b.id as string };
    }

    async function addUser(url: string, adminToken: string, email: string, role = 'user') {
      const r = await call(url, 'POST', '/api/v1/auths/add', {
        token: adminToken,
        body: { name: email, email, password: PASSWORD, role },
      });
      expect(r.status).toBe(200);
      return (r.body as Json).id as string;
    }

    async function signIn(url: string, email: string, password = PASSWORD) {
      const r = await call(url, 'POST', '/api/v1/auths/signin', {
        body: { email, password },
        headers: fresh(),
      });
      expect(r.status).toBe(200);
      return (r.body as Json).token as string;
    }

    it('300 concurrent wrong sign-ins for one email from one address: at most the limit reach the password check', async () => {
      const servers = await replicas(await backend.fresh());
      await signUpAdmin(servers[0]?.url ?? '');
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          call(servers[i % servers.length]?.url ?? '', 'POST', '/api/v1/auths/signin', {
            body: { email: ADMIN.email, password: `wrong-${i}` },
          }),
        ),
      );
      const counts = statusCounts(results);
      // 400 is "wrong password": the request got past the limiter to the password check.
      console.log(`[${name}] 300 concurrent wrong sign-ins → ${JSON.stringify(counts)} (limit 15)`);
      expect(Object.keys(counts).sort()).toEqual(['400', '429']);
      expect(counts[400]).toBeLessThanOrEqual(15);
      expect(counts[400]).toBeGreaterThan(0);
      // Still limited afterwards, even with the right password, on every replica.
      for (const s of servers) {
        const r = await call(s.url, 'POST', '/api/v1/auths/signin', { body: ADMIN });
        expect(r.status).toBe(429);
      }
    });

    it.runIf(pg)(
      'simultaneous first sign-ups on two replicas: exactly one admin, nobody past the close',
      async () => {
        const dbEnv = await backend.fresh();
        const [a, b] = await replicas(dbEnv);
        const db = await direct(dbEnv);
        const outcomes: string[] = [];
        for (let trial = 0; trial < 10; trial++) {
          await db.fork().getConnection().execute('delete from users');
          const results = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              call((i % 2 === 0 ? a : b)?.url ?? '', 'POST', '/api/v1/auths/signup', {
                body: { name: `p${i}`, email: `t${trial}p${i}@example.com`, password: PASSWORD },
                headers: fresh(),
              }),
            ),
          );
          const rows = (await db
            .fork()
            .getConnection()
            .execute('select role from users order by role')) as Array<{ role: string }>;
          outcomes.push(`${rows.map((r) => r.role).join('+')} ${JSON.stringify(statusCounts(results))}`);
        }
        console.log(`[${name}] first sign-ups, 10 trials of 8 on two replicas:\n  ${outcomes.join('\n  ')}`);
        expect(outcomes).toEqual(Array(10).fill('admin {"200":1,"403":7}'));
      },
    );

    it.runIf(pg)('two admins demoting each other on two replicas never leave 0 admins', async () => {
      const dbEnv = await backend.fresh();
      const [a, b] = await replicas(dbEnv);
      const db = await direct(dbEnv);
      const first = await signUpAdmin(a?.url ?? '');
      const secondId = await addUser(a?.url ?? '', first.token, 'second@example.com', 'admin');
      const second = await signIn(a?.url ?? '', 'second@example.com');
      const admins: number[] = [];
      for (let trial = 0; trial < 8; trial++) {
        await Promise.all([
          call(a?.url ?? '', 'POST', '/api/v1/users/update/role', {
            token: first.token,
            body: { id: secondId, role: 'user' },
          }),
          call(b?.url ?? '', 'POST', '/api/v1/users/update/role', {
            token: second,
            body: { id: first.id, role: 'user' },
          }),
        ]);
        const [row] = (await db
          .fork()
          .getConnection()
          .execute("select count(*) as n from users where role = 'admin'")) as Array<{ n: number | string }>;
        admins.push(Number(row?.n));
        // Both admin again for the next trial; wait out the replicas' session caches (1 s).
        await db.fork().getConnection().execute("update users set role = 'admin'");
        await new Promise((r) => setTimeout(r, 1200));
      }
      console.log(`[${name}] admins left after each of 8 mutual demotions: ${admins.join(' ')}`);
      expect(admins).toEqual(Array(8).fill(1));
    });

    it('concurrent changes of several accounts to one email: one 200, the rest 400 with a detail, no 500', async () => {
      const servers = await replicas(await backend.fresh());
      const url = (i: number) => servers[i % servers.length]?.url ?? '';
      const admin = await signUpAdmin(url(0));
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await addUser(url(0), admin.token, `e${i}@example.com`));
      const results = await Promise.all(
        ids.map((id, i) =>
          call(url(i), 'POST', `/api/v1/users/${id}/update`, {
            token: admin.token,
            body: { email: 'taken@example.com' },
          }),
        ),
      );
      console.log(
        `[${name}] 6 concurrent email changes to one address → ${JSON.stringify(statusCounts(results))}`,
      );
      expect(statusCounts(results)).toEqual({ 200: 1, 400: 5 });
      for (const r of results.filter((x) => x.status === 400))
        expect((r.body as Json).detail).toMatch(/already registered/);
    });

    describe('sessions', () => {
      let servers: ServerProcess[];
      let admin: { token: string; id: string };
      const url = (i = 0) => servers[i % servers.length]?.url ?? '';

      it('a token stops working after its user signs out, on every replica', async () => {
        servers = await replicas(await backend.fresh());
        admin = await signUpAdmin(url());
        await addUser(url(), admin.token, 'sam@example.com');
        const token = await signIn(url(), 'sam@example.com');
        for (let i = 0; i < servers.length; i++)
          expect((await call(url(i), 'GET', '/api/v1/auths/', { token })).status).toBe(200);
        expect((await call(url(), 'POST', '/api/v1/auths/signout', { token })).status).toBe(200);
        expect((await call(url(), 'GET', '/api/v1/auths/', { token })).status).toBe(401);
        // Another replica may reuse the session user for up to SESSION_CACHE_TTL_MS (1 s).
        for (let i = 1; i < servers.length; i++) {
          const since = Date.now();
          let status = 200;
          while (status === 200 && Date.now() - since < 3000) {
            status = (await call(url(i), 'GET', '/api/v1/chats/', { token })).status;
            if (status === 200) await new Promise((r) => setTimeout(r, 50));
          }
          expect(status).toBe(401);
        }
        // Signing in again works.
        const again = await signIn(url(), 'sam@example.com');
        expect((await call(url(), 'GET', '/api/v1/auths/', { token: again })).status).toBe(200);
      });

      it("a token stops working after its user's password changes; the changer keeps a fresh session", async () => {
        await addUser(url(), admin.token, 'pat@example.com');
        const stolen = await signIn(url(), 'pat@example.com');
        const own = await signIn(url(), 'pat@example.com');
        const changed = await call(url(), 'POST', '/api/v1/auths/update/password', {
          token: own,
          body: { password: PASSWORD, new_password: 'a-brand-new-password' },
        });
        expect(changed.status).toBe(200);
        expect(changed.body).toBe(true);
        expect((await call(url(), 'GET', '/api/v1/auths/', { token: stolen })).status).toBe(401);
        expect((await call(url(), 'GET', '/api/v1/auths/', { token: own })).status).toBe(401);
        // The browser that changed it got a new cookie and stays signed in.
        const cookie = /^token=([^;]+)/.exec(changed.headers.get('set-cookie') ?? '')?.[1] ?? '';
        expect((await call(url(), 'GET', '/api/v1/auths/', { token: cookie })).status).toBe(200);
      });

      it("a token stops working after an admin sets the user's password", async () => {
        const id = await addUser(url(), admin.token, 'max@example.com');
        const token = await signIn(url(), 'max@example.com');
        const set = await call(url(), 'POST', `/api/v1/users/${id}/update`, {
          token: admin.token,
          body: { password: 'set-by-the-admin' },
        });
        expect(set.status).toBe(200);
        expect((await call(url(), 'GET', '/api/v1/auths/', { token })).status).toBe(401);
        await signIn(url(), 'max@example.com', 'set-by-the-admin');
      });

      it('refuses a correctly signed token without exp', async () => {
        const iat = Math.floor(Date.now() / 1000);
        const noExp = signedToken({ id: admin.id, iat });
        expect((await call(url(), 'GET', '/api/v1/auths/', { token: noExp })).status).toBe(401);
        // The same claims with an exp are accepted: the key and the claims are right.
        const withExp = signedToken({ id: admin.id, iat, exp: iat + 600 });
        expect((await call(url(), 'GET', '/api/v1/auths/', { token: withExp })).status).toBe(200);
      });
    });

    it('JWT_EXPIRES_IN=-1 still signs in, with tokens that expire', async () => {
      const [s] = await replicas(await backend.fresh(), { JWT_EXPIRES_IN: '-1' });
      const r = await call(s?.url ?? '', 'POST', '/api/v1/auths/signup', { body: ADMIN, headers: fresh() });
      expect(r.status).toBe(200);
      const b = r.body as Json;
      expect(b.expires_at).toBeTypeOf('number');
      expect(b.expires_at as number).toBeLessThanOrEqual(Date.now() / 1000 + 366 * 86400);
      expect(r.headers.get('set-cookie')).toMatch(/Expires=/);
      expect((await call(s?.url ?? '', 'GET', '/api/v1/auths/', { token: b.token as string })).status).toBe(
        200,
      );
    });

    it('rate-limits open sign-up per client address, shared by the replicas', async () => {
      const servers = await replicas(await backend.fresh(), { ENABLE_SIGNUP: 'true' });
      const from = fresh();
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const r = await call(servers[i % servers.length]?.url ?? '', 'POST', '/api/v1/auths/signup', {
          body: { name: `s${i}`, email: `s${i}@example.com`, password: PASSWORD },
          headers: from,
        });
        statuses.push(r.status);
        if (r.status === 429) {
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
          expect((r.body as Json).detail).toMatch(/Too many sign-ups/);
        }
      }
      expect(statuses).toEqual([...Array(10).fill(200), 429]);
      // Another address is unaffected.
      const other = await call(servers[0]?.url ?? '', 'POST', '/api/v1/auths/signup', {
        body: { name: 'o', email: 'other@example.com', password: PASSWORD },
        headers: fresh(),
      });
      expect(other.status).toBe(200);
    });
  },
);

describe('WEBUI_SECRET_KEY', () => {
  it('shorter than 32 bytes stops startup with one line naming the setting and the fix (exit 2)', async () => {
    const data = tempDir('webui-key-');
    try {
      const r = await runToExit({ DATA_DIR: data.dir, WEBUI_SECRET_KEY: 'x'.repeat(31) });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^webui: WEBUI_SECRET_KEY: .*32 bytes.*openssl rand/);
      expect(r.stderr).not.toContain('x'.repeat(31));
    } finally {
      data.remove();
    }
  });

  it('of 32 bytes, as the operator generates (32 random bytes, base64url), is accepted', async () => {
    const data = tempDir('webui-key-');
    const s = await spawnServer({
      env: { DATA_DIR: data.dir, WEBUI_SECRET_KEY: 'k'.repeat(32), FRONTEND_BUILD_DIR: emptyFrontend.dir },
    });
    try {
      expect((await call(s.url, 'GET', '/api/config')).status).toBe(200);
    } finally {
      await s.stop();
      data.remove();
    }
  });
});
