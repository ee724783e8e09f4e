/**
 * Bundles the Lit frontend with esbuild into webui/frontend-dist/:
 *   index.html                 (references the hashed entry and theme; no CDN, works offline;
 *                               no inline script or style, so the server's strict CSP holds)
 *   assets/app-<hash>.js       (minified ESM bundle; a source map only with --sourcemap or --watch)
 *   assets/theme-<hash>.css    (the theme colours, painted before the script runs)
 *   manifest.json              ({ entry, files }) for the server and bench/frontend.ts
 *
 * Usage: node webui/scripts/build-frontend.ts [--out DIR] [--api-base URL] [--sourcemap] [--watch]
 * `--api-base` points a dev build at a server on another origin (needs CORS_ALLOW_ORIGIN there).
 * A production build ships no source map: the server would hand the sources to anyone who asks.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const webuiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT_DIR = path.join(webuiDir, 'frontend-dist');
const ENTRY = path.join(webuiDir, 'src/frontend/main.ts');

export interface BuildResult {
  outDir: string;
  /** Path of the entry script relative to outDir, e.g. assets/app-ABCD1234.js */
  entry: string;
  files: string[];
}

export interface BuildOptions {
  outDir?: string;
  apiBase?: string;
  minify?: boolean;
  /** Write a linked source map with the sources (default: only in watch mode, for development). */
  sourcemap?: boolean;
}

/** Theme colours: light by default, dark via prefers-color-scheme. Components read these names. */
const THEME_CSS = `
:root{color-scheme:light dark;--bg:#f7f7f8;--surface:#fff;--fg:#1b1c1f;--muted:#5f6368;--muted-bg:#eef0f3;
--border:#d9dce1;--input-bg:#fff;--btn-bg:#fff;--hover:#eef0f3;--accent:#2557d6;--accent-strong:#1c45ad;
--on-accent:#fff;--danger:#b3261e;--danger-bg:#fdecea;--danger-border:#f3b8b3;--ok:#1e7b34;
--warn-fg:#7a4b00;--warn-bg:#fff6e0;--warn-border:#f0d08a;--code-bg:#f1f3f5;--user-bg:#e6ecfb}
@media (prefers-color-scheme:dark){:root{--bg:#131417;--surface:#1b1d21;--fg:#e6e7e9;--muted:#a0a4ab;
--muted-bg:#262930;--border:#33363d;--input-bg:#15171a;--btn-bg:#23262c;--hover:#2d3037;--accent:#7aa2ff;
--accent-strong:#a3bfff;--on-accent:#0d1426;--danger:#ff8a80;--danger-bg:#3a1d1b;--danger-border:#6b2f2a;
--ok:#7fd68f;--warn-fg:#ffd27a;--warn-bg:#33290f;--warn-border:#6b5316;--code-bg:#202328;--user-bg:#26324d}}
html,body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.boot{padding:2rem;color:var(--muted)}`;

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The theme as a file named by its content, so it can be cached forever like the script. */
export function themeFile(): { name: string; css: string } {
  const css = THEME_CSS.replace(/\n/g, '');
  const hash = createHash('sha256').update(css).digest('hex').slice(0, 8).toUpperCase();
  return { name: `assets/theme-${hash}.css`, css };
}

export function renderIndexHtml(entry: string, apiBase = '', stylesheet = themeFile().name): string {
  const apiMeta = apiBase ? `<meta name="webui-api-base" content="${escapeAttr(apiBase)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
${apiMeta}<title>WebUI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./${escapeAttr(stylesheet)}">
<script type="module" src="./${escapeAttr(entry)}"></script>
</head>
<body>
<webui-app><p class="boot">Loading…</p></webui-app>
<noscript>This app needs JavaScript.</noscript>
</body>
</html>
`;
}

function esbuildOptions(outDir: string, minify: boolean, sourcemap: boolean) {
  return {
    entryPoints: { app: ENTRY },
    outdir: outDir,
    entryNames: 'assets/[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
    minify,
    sourcemap: sourcemap ? 'linked' : false,
    sourcesContent: sourcemap,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  } satisfies esbuild.BuildOptions;
}

/** Writes index.html and manifest.json for one esbuild result. */
async function writePages(
  outDir: string,
  metafile: esbuild.Metafile,
  apiBase?: string,
): Promise<BuildResult> {
  const files = Object.keys(metafile.outputs).map((f) => path.relative(outDir, path.resolve(f)));
  const entry = files.find((f) => f.endsWith('.js') && /assets\/app-/.test(f));
  if (!entry) throw new Error('esbuild produced no entry script');
  const theme = themeFile();
  await writeFile(path.join(outDir, theme.name), theme.css);
  files.push(theme.name);
  await writeFile(path.join(outDir, 'index.html'), renderIndexHtml(entry, apiBase, theme.name));
  await writeFile(path.join(outDir, 'manifest.json'), `${JSON.stringify({ entry, files }, null, 2)}\n`);
  return { outDir, entry, files: [...files, 'index.html', 'manifest.json'] };
}

export async function buildFrontend(opts: BuildOptions = {}): Promise<BuildResult> {
  const outDir = path.resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await esbuild.build(esbuildOptions(outDir, opts.minify ?? true, opts.sourcemap ?? false));
  return writePages(outDir, result.metafile, opts.apiBase);
}

/**
 * Rebuilds on every source change (unminified, with a source map, for
 * debugging) and rewrites index.html; reload the page served by `webui serve`.
 */
export async function watchFrontend(opts: BuildOptions = {}): Promise<esbuild.BuildContext> {
  const outDir = path.resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const ctx = await esbuild.context({
    ...esbuildOptions(outDir, opts.minify ?? false, opts.sourcemap ?? true),
    plugins: [
      {
        name: 'index-html',
        setup(build) {
          build.onEnd(async (res) => {
            if (res.errors.length || !res.metafile) return;
            const r = await writePages(outDir, res.metafile, opts.apiBase);
            console.log(`rebuilt ${r.entry}`);
          });
        },
      },
    ],
  });
  await ctx.watch();
  return ctx;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      'api-base': { type: 'string' },
      sourcemap: { type: 'boolean' },
      watch: { type: 'boolean', default: false },
    },
  });
  const opts = { outDir: values.out, apiBase: values['api-base'], sourcemap: values.sourcemap };
  if (values.watch) {
    await watchFrontend(opts);
    console.log('watching webui/src/frontend (Ctrl+C to stop)');
  } else {
    const res = await buildFrontend(opts);
    console.log(`frontend built: ${path.relative(process.cwd(), res.outDir)}/${res.entry}`);
  }
}
