/**
 * The one esbuild configuration for the Node programs that ship (the WebUI
 * server and the operator): ESM for Node 24, npm packages left external and
 * resolved from node_modules above the bundle, linked source maps, and a
 * banner constant holding the installation root as a URL, so a bundle finds
 * package.json wherever it sits inside the install.
 *
 * Why bundle at all: running the .ts sources makes Node load its TypeScript
 * stripper (a WebAssembly module) and keep it, ~30 MB of RSS per process.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface NodeBundle {
  /** Output file name without extension, e.g. "webui" → webui.js. */
  name: string;
  /** Entry point relative to the repository root. */
  entry: string;
  /** Output directory; must be inside the install. It is emptied first. */
  outDir: string;
  /** Name of the banner constant that holds the installation root URL (with a trailing slash). */
  rootConstant: string;
  /** Split lazily imported modules into chunks. */
  splitting?: boolean;
}

/** Builds the bundle; returns the path of its entry file. */
export async function buildNodeBundle(bundle: NodeBundle): Promise<string> {
  const rootFromOut = path.relative(bundle.outDir, REPO_ROOT).split(path.sep).join('/');
  await rm(bundle.outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { [bundle.name]: path.join(REPO_ROOT, bundle.entry) },
    outdir: bundle.outDir,
    bundle: true,
    splitting: bundle.splitting ?? false,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    sourcemap: 'linked',
    banner: {
      js: `const ${bundle.rootConstant} = new URL(${JSON.stringify(`${rootFromOut}/`)}, import.meta.url).href;`,
    },
    logLevel: 'warning',
  });
  return path.join(bundle.outDir, `${bundle.name}.js`);
}
