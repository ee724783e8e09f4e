import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../scripts/build-server.ts';
import { call } from './testing/backends.ts';
import { type ServerProcess, spawnServer, tempDir } from './testing/server-process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAUNCHER = path.join(ROOT, 'webui/bin/webui-dist');

/** The Node flags the image's launcher passes (its `exec node <flags> ".../webui.js"` line). */
function launcherFlags(): string[] {
  const m = /^exec node (.*?) "\$here\/\.\.\/\.\.\/dist\/webui\/webui\.js" "\$@"$/m.exec(
    readFileSync(LAUNCHER, 'utf8'),
  );
  if (m === null) throw new Error(`no exec line in ${LAUNCHER}`);
  return (m[1] as string).split(/\s+/);
}

// The image runs the esbuild bundle, not the sources: it must find the install root
// (package.json, the default frontend build) and load its lazy chunks (database, /ollama).
describe('the server bundle (webui/scripts/build-server.ts) with the launcher flags', () => {
  // Inside the install (gitignored .tmp/): the bundle loads its npm packages from node_modules above it.
  mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  const out = mkdtempSync(path.join(ROOT, '.tmp/bundle-test-'));
  const data = tempDir('webui-bundle-data-');
  let s: ServerProcess;
  beforeAll(async () => {
    const entry = await buildServer(out);
    s = await spawnServer({
      entry: [...launcherFlags(), entry],
      env: { DATA_DIR: data.dir, WEBUI_SECRET_KEY: 'bundle-test-secret-0123456789abcdef' },
    });
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(out, { recursive: true, force: true });
    data.remove();
  });

  it('starts with those flags, reads the version from the root package.json, and serves the API and /ollama', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await call(s.url, 'GET', '/api/version');
    expect(version.body).toMatchObject({ version: pkg.version });
    const signup = await call(s.url, 'POST', '/api/v1/auths/signup', {
      body: { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' },
    });
    expect(signup.status).toBe(200);
    const token = (signup.body as { token: string }).token;
    expect((await call(s.url, 'GET', '/api/v1/auths/', { token })).status).toBe(200);
    expect((await call(s.url, 'GET', '/ollama/', { token })).body).toEqual({ status: true });
  });

  it('resolves the default FRONTEND_BUILD_DIR to webui/frontend-dist of the install, as the sources do', async () => {
    const dir = path.join(ROOT, 'webui/frontend-dist');
    const page = await call(s.url, 'GET', '/');
    if (existsSync(path.join(dir, 'index.html'))) {
      expect(page.status).toBe(200);
      expect(page.text).toBe(readFileSync(path.join(dir, 'index.html'), 'utf8'));
    } else {
      // No `make frontend` yet: the server names the directory it looked in.
      expect(page.status).toBe(503);
      const health = (await call(s.url, 'GET', '/health')).body as { frontend: { dir?: string } };
      expect(health.frontend.dir).toBe(dir);
    }
  });
});
