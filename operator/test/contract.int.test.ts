/**
 * Contract test: the real `webui serve` process, started with exactly the
 * command, args and env of the rendered backend (and frontend) Deployment, honours them.
 * Mapping from pod to process (nothing else is changed):
 * - command `webui` (the image entrypoint) → `node webui/bin/webui.ts`;
 * - secretKeyRef values are resolved from the rendered Secret;
 * - the /data volume → a temp dir; PORT/HOST → a free 127.0.0.1 port;
 * - the frontend's BACKEND_URL (the backend Service) → the backend process.
 */
import type { V1Container, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/fake-ollama/fake-ollama.ts';
import { call } from '../../webui/src/server/testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from '../../webui/src/server/testing/server-process.ts';
import { defaultSpec, type WebUI, type WebUISpecInput } from '../src/api/v1alpha1/webui.ts';
import { DATA_DIR, ENTRYPOINT, renderBackend } from '../src/render/backend.ts';
import { backendServiceUrl, renderFrontend } from '../src/render/frontend.ts';
import { renderSecretKeySecret } from '../src/render/secret-key.ts';

const ADMIN = { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' };
const BOB = { name: 'Bob', email: 'bob@example.com', password: 'bobs-password-42' };

let ollama: FakeOllama;
const data = tempDir('webui-contract-');
const running: ServerProcess[] = [];

function webui(spec: WebUISpecInput): WebUI {
  return {
    apiVersion: 'webui.dev/v1alpha1',
    kind: 'WebUI',
    metadata: { name: 'chat', namespace: 'team', uid: 'u1', generation: 1 },
    spec: defaultSpec(spec),
  };
}

/** The process environment a kubelet would give the backend container. */
function podEnv(c: V1Container, secrets: V1Secret[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const s = secrets.find((x) => x.metadata?.name === ref.name);
      const v = s?.data?.[ref.key];
      if (v === undefined) throw new Error(`secret ${ref.name}/${ref.key} is not rendered`);
      out[e.name] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  return out;
}

async function startAsPod(spec: WebUISpecInput, secrets: V1Secret[]): Promise<ServerProcess> {
  const w = webui(spec);
  const d: V1Deployment = renderBackend(w, { defaultImage: 'img', secretDigests: {} });
  const c = d.spec?.template.spec?.containers[0];
  if (!c) throw new Error('no container');
  expect(c.command).toEqual([ENTRYPOINT]);
  expect(c.volumeMounts?.find((m) => m.name === 'data')?.mountPath).toBe(DATA_DIR);
  const { PORT: _port, HOST: _host, ...env } = podEnv(c, secrets);
  expect(env.DATA_DIR).toBe(DATA_DIR);
  const s = await spawnServer({ env: { ...env, DATA_DIR: data.dir }, args: c.args ?? [] });
  running.push(s);
  return s;
}

async function stop(s: ServerProcess): Promise<void> {
  await s.stop();
  running.splice(running.indexOf(s), 1);
}

beforeAll(async () => {
  ollama = await startFakeOllama({ version: '0.9.9' });
});

afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
  await ollama?.close();
  data.remove();
});

describe('the rendered backend pod, run as a process', () => {
  const base = (): WebUISpecInput => ({
    ollama: { baseUrl: ollama.url, timeoutSeconds: 1 },
    auth: { enableSignup: false, defaultUserRole: 'user' },
  });
  let secret: V1Secret;
  let adminToken: string;

  it('honours signup, the Ollama URL, the timeout and the managed settings', async () => {
    const rendered = renderSecretKeySecret(webui(base()), undefined);
    if (!rendered) throw new Error('no secret');
    secret = rendered;
    const s = await startAsPod(base(), [secret]);

    // The first account is always allowed (admin); ENABLE_SIGNUP=false closes signup after it.
    const first = await call(s.url, 'POST', '/api/v1/auths/signup', { body: ADMIN });
    expect(first.status).toBe(200);
    adminToken = (first.body as { token: string }).token;
    expect((await call(s.url, 'POST', '/api/v1/auths/signup', { body: BOB })).status).toBe(403);

    // Settings the spec sets are managed: visible as such, and refused with 409.
    const cfg = await call(s.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
    expect(cfg.body).toMatchObject({ ENABLE_SIGNUP: false, DEFAULT_USER_ROLE: 'user' });
    expect((cfg.body as { MANAGED: string[] }).MANAGED).toEqual(
      expect.arrayContaining(['ENABLE_SIGNUP', 'DEFAULT_USER_ROLE', 'OLLAMA_BASE_URLS']),
    );
    const refused = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
      token: adminToken,
      body: { ENABLE_SIGNUP: true },
    });
    expect(refused.status).toBe(409);
    expect(
      (
        await call(s.url, 'POST', '/api/v1/auths/admin/config', {
          token: adminToken,
          body: { DEFAULT_USER_ROLE: 'admin' },
        })
      ).status,
    ).toBe(409);
    // A setting the spec leaves alone stays editable.
    const allowed = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
      token: adminToken,
      body: { JWT_EXPIRES_IN: '12h' },
    });
    expect(allowed.status).toBe(200);

    // spec.ollama.baseUrl is where /ollama goes.
    const tags = await call(s.url, 'GET', '/ollama/api/tags', { token: adminToken });
    expect(tags.status).toBe(200);
    expect(JSON.stringify(tags.body)).toContain('llama3.2:latest');

    // spec.ollama.timeoutSeconds=1: a model that never answers is cut off by AIOHTTP_CLIENT_TIMEOUT.
    const hung = await call(s.url, 'POST', '/ollama/api/chat', {
      token: adminToken,
      body: { model: 'hang:latest', messages: [{ role: 'user', content: 'hi' }], stream: true },
    });
    expect(hung.status).toBe(504);
    expect(hung.text).toContain('AIOHTTP_CLIENT_TIMEOUT');

    // The rendered frontend, with BACKEND_URL (the backend Service) mapped to this backend.
    const fd = renderFrontend(webui(base()), { defaultImage: 'img', secretDigests: {} });
    const fc = fd.spec?.template.spec?.containers[0];
    if (!fc) throw new Error('no frontend container');
    expect(fc.command).toEqual([ENTRYPOINT]);
    const { PORT: _p, HOST: _h, ...fenv } = podEnv(fc, []);
    expect(fenv.BACKEND_URL).toBe(backendServiceUrl(webui(base())));
    const f = await spawnServer({ env: { ...fenv, BACKEND_URL: s.url }, args: fc.args ?? [] });
    running.push(f);
    expect((await call(f.url, 'GET', fc.readinessProbe?.httpGet?.path ?? '?')).status).toBe(200);
    const viaFrontend = await call(f.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
    expect(viaFrontend.body).toMatchObject({ ENABLE_SIGNUP: false });
    await stop(f);
    await stop(s);
  });

  it('resets saved settings once per reset token', async () => {
    const withToken: WebUISpecInput = { ...base(), config: { resetToken: 'reset-1' } };
    let s = await startAsPod(withToken, [secret]);
    const cfg = await call(s.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
    // The reset deleted the saved JWT_EXPIRES_IN; users survive (the admin token still works).
    expect(cfg.status).toBe(200);
    expect(cfg.body).toMatchObject({ JWT_EXPIRES_IN: '4w', CONFIG_RESET: { token: 'reset-1' } });

    // Saved again, then the same pod restarts (same token): no second reset.
    await call(s.url, 'POST', '/api/v1/auths/admin/config', {
      token: adminToken,
      body: { JWT_EXPIRES_IN: '2h' },
    });
    await stop(s);
    s = await startAsPod(withToken, [secret]);
    const again = await call(s.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
    expect(again.body).toMatchObject({ JWT_EXPIRES_IN: '2h' });
    await stop(s);
  });

  it('lets a runtime setting from spec.extraEnv outrank the value an admin saved, and refuses changes', async () => {
    // The admin saved JWT_EXPIRES_IN=2h above; the spec now sets it through extraEnv.
    const s = await startAsPod({ ...base(), extraEnv: [{ name: 'JWT_EXPIRES_IN', value: '1h' }] }, [secret]);
    const cfg = await call(s.url, 'GET', '/api/v1/auths/admin/config', { token: adminToken });
    expect(cfg.body).toMatchObject({ JWT_EXPIRES_IN: '1h' });
    expect((cfg.body as { MANAGED: string[] }).MANAGED).toContain('JWT_EXPIRES_IN');
    const refused = await call(s.url, 'POST', '/api/v1/auths/admin/config', {
      token: adminToken,
      body: { JWT_EXPIRES_IN: '3h' },
    });
    expect(refused.status).toBe(409);
    await stop(s);
  });
});

// Issue 14, finding 2: ingress → frontend forwarder → backend, each process with its rendered env.
// The test is the ingress: it connects from 127.0.0.1 (inside the default trusted ranges) and appends
// the address it saw for each user to X-Forwarded-For, as ingress controllers do. Before the fix the
// backend saw every user as the ingress, and one attacker's 61 failed sign-ins locked everybody out.
describe('the rendered frontend and backend behind an ingress', () => {
  it('count sign-ins per user address, not per ingress address', async () => {
    const dir = tempDir('webui-contract-ingress-');
    const spec: WebUISpecInput = { ollama: { baseUrl: ollama.url } };
    const key = renderSecretKeySecret(webui(spec), undefined);
    if (!key) throw new Error('no secret');
    try {
      const bc = renderBackend(webui(spec), { defaultImage: 'img', secretDigests: {} }).spec?.template.spec
        ?.containers[0];
      const fc = renderFrontend(webui(spec), { defaultImage: 'img', secretDigests: {} }).spec?.template.spec
        ?.containers[0];
      if (!bc || !fc) throw new Error('no containers');
      const { PORT: _bp, HOST: _bh, ...benv } = podEnv(bc, [key]);
      const b = await spawnServer({ env: { ...benv, DATA_DIR: dir.dir }, args: bc.args ?? [] });
      running.push(b);
      const { PORT: _fp, HOST: _fh, ...fenv } = podEnv(fc, []);
      const f = await spawnServer({ env: { ...fenv, BACKEND_URL: b.url }, args: fc.args ?? [] });
      running.push(f);

      const asUser = (address: string) => ({ 'x-forwarded-for': address });
      const alice = { name: 'Alice', email: 'alice@example.com', password: 'alices-passw0rd-42' };
      expect(
        (await call(f.url, 'POST', '/api/v1/auths/signup', { body: alice, headers: asUser('198.51.100.7') }))
          .status,
      ).toBe(200);
      // The attacker: 61 wrong sign-ins, each for another email (the per-email limit never bites).
      const statuses: number[] = [];
      for (let i = 0; i < 61; i++) {
        const r = await call(f.url, 'POST', '/api/v1/auths/signin', {
          body: { email: `nobody${i}@example.com`, password: 'wrong-password' },
          headers: asUser('203.0.113.66'),
        });
        statuses.push(r.status);
      }
      expect(statuses.slice(0, 60).every((s) => s === 400)).toBe(true);
      expect(statuses[60]).toBe(429);
      // A client-written entry in front of the attacker's address does not buy a fresh bucket.
      const spoofed = await call(f.url, 'POST', '/api/v1/auths/signin', {
        body: { email: 'nobody@example.com', password: 'wrong-password' },
        headers: asUser('192.0.2.99, 203.0.113.66'),
      });
      expect(spoofed.status).toBe(429);
      // Alice, from her own address, is not locked out.
      const ok = await call(f.url, 'POST', '/api/v1/auths/signin', {
        body: { email: alice.email, password: alice.password },
        headers: asUser('198.51.100.7'),
      });
      expect(ok.status).toBe(200);
      await stop(f);
      await stop(b);
    } finally {
      dir.remove();
    }
  }, 120_000);
});
