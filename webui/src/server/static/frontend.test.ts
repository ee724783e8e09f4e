import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR } from '../../../scripts/build-frontend.ts';
import { cacheControlFor, frontendStatus, isApiPath, serveFrontend } from './frontend.ts';

describe('static frontend rules', () => {
  it('never treats API paths as SPA routes', () => {
    for (const p of ['/api', '/api/v1/x', '/ollama', '/ollama/api/tags', '/openapi.json'])
      expect(isApiPath(p)).toBe(true);
    for (const p of ['/', '/c/123', '/apix', '/ollamas', '/settings/api']) expect(isApiPath(p)).toBe(false);
  });

  it('caches hashed assets forever and index.html never', () => {
    expect(cacheControlFor('/b/index.html')).toBe('no-cache');
    expect(cacheControlFor('/b/assets/app-7G2KQX9A.js')).toContain('immutable');
    expect(cacheControlFor('/b/chunk.4f3a2b1c9d.css')).toContain('immutable');
    expect(cacheControlFor('/b/favicon.png')).not.toContain('immutable');
    expect(cacheControlFor('/b/app.js')).not.toContain('immutable');
  });

  it("FRONTEND_BUILD_DIR defaults to the frontend build's output, wherever the server is started", () => {
    expect(frontendStatus(undefined).dir).toBe(path.resolve(DEFAULT_OUT_DIR));
    expect(frontendStatus('/srv/fe').dir).toBe('/srv/fe');
    expect(frontendStatus('/nonexistent-build-dir').present).toBe(false);
  });
});

describe('serving the built page', () => {
  let dir: string;
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'webui-static-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(dir, 'assets', 'app-ABCDEFGH.js'), 'export {};');
    const app = new Koa();
    app.use(serveFrontend(dir));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a strict Content-Security-Policy with the page: own scripts and styles only, no framing', async () => {
    for (const p of ['/', '/index.html', '/some/route']) {
      const res = await fetch(url + p);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(
        csp.split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name, values.join(' ')];
        }),
      );
      expect(directives).toMatchObject({
        'default-src': "'none'",
        'script-src': "'self'",
        'style-src': "'self'",
        'connect-src': "'self'",
        'object-src': "'none'",
        'base-uri': "'none'",
        'frame-ancestors': "'none'",
        'form-action': "'self'",
      });
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
    }
  });
});
