import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildResult, buildFrontend, renderIndexHtml } from '../webui/scripts/build-frontend.ts';
import { BUDGET, initialScripts, measureInitialJs } from './frontend.ts';

describe('initialScripts', () => {
  it('finds the module entry and modulepreloads, relative to the build dir', () => {
    const html = `${renderIndexHtml('assets/app-AB12.js')}<link rel="modulepreload" href="/assets/chunk-X.js">`;
    expect(initialScripts(html)).toEqual(['assets/app-AB12.js', 'assets/chunk-X.js']);
  });
});

describe('the production build', () => {
  let dir: string;
  let build: BuildResult;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'frontend-build-'));
    build = await buildFrontend({ outDir: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a hashed, minified entry referenced by index.html, and ships no source map', async () => {
    expect(build.entry).toMatch(/^assets\/app-[A-Z0-9]{8}\.js$/);
    const index = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(index).toContain(`src="./${build.entry}"`);
    const js = readFileSync(path.join(dir, build.entry), 'utf8');
    // A production build exposes no source (the server would serve the map to anyone who asks).
    expect(js).not.toContain('sourceMappingURL');
    expect(build.files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(existsSync(path.join(dir, `${build.entry}.map`))).toBe(false);
    // Minified: our module-level names are renamed, so they no longer appear in the bundle.
    for (const name of ['consumeChatLines', 'parseMarkdown', 'errorFromResponse', 'managedNames']) {
      expect(js).not.toContain(name);
    }
  });

  it('has no inline script or style, so the strict Content-Security-Policy holds', () => {
    const index = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(index).not.toMatch(/<style[\s>]/);
    expect(index).not.toMatch(/\sstyle=/);
    expect(index).not.toMatch(/\son[a-z]+=/);
    for (const m of index.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1]).toMatch(/\ssrc="/);
      expect(m[2]).toBe('');
    }
    const css = build.files.find((f) => /^assets\/theme-[A-Z0-9]{8}\.css$/.test(f));
    expect(css).toBeDefined();
    expect(index).toContain(`href="./${css}"`);
  });

  it('writes a linked source map when asked (development)', async () => {
    const devDir = mkdtempSync(path.join(tmpdir(), 'frontend-build-dev-'));
    try {
      const dev = await buildFrontend({ outDir: devDir, sourcemap: true, minify: false });
      const js = readFileSync(path.join(devDir, dev.entry), 'utf8');
      expect(js).toMatch(/\/\/# sourceMappingURL=app-[A-Z0-9]{8}\.js\.map\s*$/);
      expect(
        JSON.parse(readFileSync(path.join(devDir, `${dev.entry}.map`), 'utf8')).sources.length,
      ).toBeGreaterThan(5);
    } finally {
      rmSync(devDir, { recursive: true, force: true });
    }
  });

  it('loads nothing from another origin (works offline, no CDN)', () => {
    const index = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(index).not.toMatch(/(src|href)="(https?:)?\/\//);
    const js = readFileSync(path.join(dir, build.entry), 'utf8');
    expect(js).not.toMatch(/import\(\s*["'`]https?:/);
    expect(js).not.toMatch(/from\s*["'`]https?:/);
  });

  it('stays within the initial JS budget', () => {
    const m = measureInitialJs(dir);
    expect(m.initialScripts).toEqual([build.entry]);
    expect(m.initialJsGzipBytes).toBeLessThanOrEqual(BUDGET.initialJsGzipBytes);
  });
});
