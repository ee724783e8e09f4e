/**
 * Every route the real server documents in /openapi.json, called as nobody,
 * as a pending account and as a user: the access level it documents
 * (`x-access`) is the one it enforces. 401 without a session, 403 for a role
 * that is not enough, checked before the body is validated, with {"detail"}.
 * Access does not depend on the storage backend, so this runs on SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from './testing/server-process.ts';

type Access = 'public' | 'signedIn' | 'verified' | 'admin';
interface Operation {
  method: string;
  path: string;
  access: Access;
}

const PASSWORD = 'access-test-password';
const data = tempDir('webui-access-');
let s: ServerProcess;
const tokens: Record<'admin' | 'user' | 'pending', string> = { admin: '', user: '', pending: '' };
let operations: Operation[] = [];

beforeAll(async () => {
  s = await spawnServer({
    env: {
      DATA_DIR: data.dir,
      FRONTEND_BUILD_DIR: data.dir,
      WEBUI_SECRET_KEY: 'access-test-secret-0123456789abcdef',
      // Nothing listens there: an allowed /ollama call fails fast with 502, never hangs.
      OLLAMA_BASE_URL: 'http://127.0.0.1:9',
    },
  });
  const signup = await call(s.url, 'POST', '/api/v1/auths/signup', {
    body: { name: 'Admin', email: 'admin@example.com', password: PASSWORD },
  });
  tokens.admin = (signup.body as { token: string }).token;
  for (const role of ['user', 'pending'] as const) {
    const add = await call(s.url, 'POST', '/api/v1/auths/add', {
      token: tokens.admin,
      body: { name: role, email: `${role}@example.com`, password: PASSWORD, role },
    });
    expect(add.status).toBe(200);
    const signin = await call(s.url, 'POST', '/api/v1/auths/signin', {
      body: { email: `${role}@example.com`, password: PASSWORD },
    });
    tokens[role] = (signin.body as { token: string }).token;
  }
  const doc = (await call(s.url, 'GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, { 'x-access': Access }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      access: op['x-access'],
    })),
  );
});

afterAll(async () => {
  await s?.stop();
  data.remove();
});

/** A concrete URL for a documented path: `{url_idx}` → 0, any other parameter → an id that does not exist. */
const concrete = (path: string) =>
  path.replace('{url_idx}', '0').replace(/\{[^}]+\}/g, '00000000-0000-7000-8000-000000000000');

async function as(role: keyof typeof tokens | undefined, op: Operation) {
  return call(s.url, op.method, concrete(op.path), {
    ...(role ? { token: tokens[role] } : {}),
    ...(op.method === 'POST' ? { body: {} } : {}),
  });
}

describe('access levels of every documented route', () => {
  it('covers the whole API, including /ollama, with a known access level each', () => {
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.some((o) => o.path.startsWith('/ollama/'))).toBe(true);
    for (const o of operations) expect(['public', 'signedIn', 'verified', 'admin']).toContain(o.access);
  });

  it('answers 401 {"detail"} without a session on every non-public route, and never 401 on public ones', async () => {
    const wrong: string[] = [];
    for (const op of operations) {
      const r = await as(undefined, op);
      const want401 = op.access !== 'public';
      if (
        (r.status === 401) !== want401 ||
        (want401 && typeof (r.body as { detail?: unknown }).detail !== 'string')
      )
        wrong.push(`${op.method} ${op.path} (${op.access}): ${r.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 to a pending account on verified and admin routes, and lets it through signed-in ones', async () => {
    const wrong: string[] = [];
    for (const op of operations) {
      if (op.access === 'public') continue;
      const r = await as('pending', op);
      const want403 = op.access === 'verified' || op.access === 'admin';
      if (r.status === 401 || (r.status === 403) !== want403)
        wrong.push(`${op.method} ${op.path} (${op.access}): ${r.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 to a user on admin routes, and lets a user through verified ones', async () => {
    const wrong: string[] = [];
    for (const op of operations) {
      if (op.access !== 'admin' && op.access !== 'verified') continue;
      const r = await as('user', op);
      const want403 = op.access === 'admin';
      if (r.status === 401 || (r.status === 403) !== want403)
        wrong.push(`${op.method} ${op.path} (${op.access}): ${r.status}`);
    }
    expect(wrong).toEqual([]);
  });
});
