import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

  it('writes a hashed, minified entry with a source map, referenced by index.html', () => {
    expect(build.entry).toMatch(/^assets\/app-[A-Z0-9]{8}\.js$/);
    const index = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(index).toContain(`src="./${build.entry}"`);
    const js = readFileSync(path.join(dir, build.entry), 'utf8');
    expect(js).toMatch(/\/\/# sourceMappingURL=app-[A-Z0-9]{8}\.js\.map\s*$/);
    expect(
      JSON.parse(readFileSync(path.join(dir, `${build.entry}.map`), 'utf8')).sources.length,
    ).toBeGreaterThan(5);
    // Minified: our module-level names are renamed, so they no longer appear in the bundle.
    for (const name of ['consumeChatLines', 'parseMarkdown', 'errorFromResponse', 'managedNames']) {
      expect(js).not.toContain(name);
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
