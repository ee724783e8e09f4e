/**
 * Property-based fuzzing of the real server's whole API with schemathesis (PyPI, pinned with
 * its dependencies in requirements.txt, installed into .tools/schemathesis by `make schemathesis`), driven by the server's
 * own /openapi.json, as an admin. The server runs on SQLite against the fake Ollama on loopback.
 *
 * It fails on any 5xx, on a response that does not match the documented schema, on an undeclared
 * method that is not 405, and on a valid request the server rejects. Routes that would make the
 * server call an address a caller chooses (`/ollama/verify`, `/ollama/config/update`) are left out,
 * so the run never sends traffic off the machine; so are routes that would end the admin's own
 * session or account (sign-out, password changes, updating or deleting users), which would only
 * blind the rest of the run. Bounded in time (SCHEMATHESIS_MAX_TIME, default 120 s) and seeded
 * (SCHEMATHESIS_SEED, default below) so that CI replays the same cases; set another seed to explore.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '../../webui/src/server/testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from '../../webui/src/server/testing/server-process.ts';
import { DEFAULT_MODELS, type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { REPO_ROOT } from '../harness/binaries.ts';

const ST = join(REPO_ROOT, '.tools', 'schemathesis', 'bin', 'st');
/** Per-operation exceptions, each with its reason. */
const CONFIG = join(REPO_ROOT, 'test', 'api-fuzz', 'schemathesis.toml');
const MAX_TIME = Number(process.env.SCHEMATHESIS_MAX_TIME ?? 120);
const SEED = process.env.SCHEMATHESIS_SEED ?? '20261203';
/** Routes left out, and why (see the header). */
export const EXCLUDED_PATHS = [
  '^/ollama/verify$',
  '^/ollama/config/update$',
  '^/api/v1/auths/signout$',
  '^/api/v1/auths/update/password$',
  '^/api/v1/users/\\{[^}]+\\}/update$',
  '^/api/v1/users/\\{[^}]+\\}$',
];

const data = tempDir('webui-fuzz-');
let fake: FakeOllama;
let s: ServerProcess;
let token = '';

beforeAll(async () => {
  if (!existsSync(ST)) throw new Error(`schemathesis not found at ${ST}: run \`make schemathesis\``);
  // Only well-behaved models: the fault models (failing, stalled, hang...) answer 500s and silence on
  // purpose, and schemathesis reads model names from /api/tags. Faults are test/faults' and the proxy's tests.
  fake = await startFakeOllama({
    record: false,
    models: DEFAULT_MODELS.filter((m) => m.kind === 'normal' || m.kind === 'embedding'),
  });
  s = await spawnServer({
    env: {
      DATA_DIR: data.dir,
      FRONTEND_BUILD_DIR: data.dir,
      WEBUI_SECRET_KEY: 'fuzz-test-secret-0123456789abcdef0123',
      OLLAMA_BASE_URL: fake.url,
      LOG_LEVEL: 'warn',
    },
  });
  const signup = await call(s.url, 'POST', '/api/v1/auths/signup', {
    body: { name: 'Admin', email: 'admin@example.com', password: 'fuzz-Adm1n-passw0rd' },
  });
  expect(signup.status).toBe(200);
  token = (signup.body as { token: string }).token;
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await fake?.close();
  data.remove();
});

/**
 * Runs schemathesis without blocking this process: the fake Ollama the server
 * calls lives in it (a synchronous spawn would starve it into timeouts).
 */
function runSchemathesis(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ST, args, { env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it(
  'survives schemathesis as an admin: no 5xx, responses as documented, valid requests accepted',
  async () => {
    const r = await runSchemathesis(
      [
        '--config-file',
        CONFIG,
        'run',
        `${s.url}/openapi.json`,
        '--header',
        `Authorization: Bearer ${token}`,
        '--checks',
        'not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,unsupported_method,positive_data_acceptance',
        '--max-time',
        String(MAX_TIME),
        '--seed',
        SEED,
        '--workers',
        '1',
        '--phases',
        'examples,coverage,fuzzing',
        '--exclude-path-regex',
        EXCLUDED_PATHS.join('|'),
        '--suppress-health-check',
        'all',
        '--no-color',
      ],
      (MAX_TIME + 120) * 1000,
    );
    if (r.code !== 0) console.error(r.output.slice(-20_000));
    expect(r.code, r.output.slice(-4000)).toBe(0);
  },
  (MAX_TIME + 180) * 1000,
);
