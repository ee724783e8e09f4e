import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR } from '../../../scripts/build-frontend.ts';
import { cacheControlFor, frontendStatus, isApiPath } from './frontend.ts';

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
