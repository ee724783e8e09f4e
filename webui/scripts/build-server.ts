/**
 * Bundles the server (webui/bin/webui.ts and everything it imports from
 * webui/src) with esbuild into plain JavaScript in dist/webui/:
 *   webui.js        the entry (`node dist/webui/webui.js serve ...`)
 *   chunk-*.js      code loaded lazily (database, /ollama proxy, --mode frontend forwarder)
 *   *.js.map        source maps (run with --enable-source-maps to use them)
 *
 * Why: running the .ts sources makes Node load its TypeScript stripper (a
 * WebAssembly module) and keep it, which costs ~35 MB of RSS per process.
 * npm packages stay external (resolved from node_modules at run time), so
 * native modules and MikroORM's driver loading work unchanged.
 * `node webui/bin/webui.ts` keeps working for development; the image runs the
 * bundle through webui/bin/webui-dist, which also sets the Node flags.
 *
 * Usage: node webui/scripts/build-server.ts [--out DIR]
 * DIR must be inside the install (default dist/webui): the bundle finds its
 * npm packages in node_modules above it and the root relative to itself.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildNodeBundle, REPO_ROOT } from '../../scripts/node-bundle.ts';

export const DEFAULT_SERVER_OUT_DIR = path.join(REPO_ROOT, 'dist/webui');

/** Builds the bundle; returns the entry file. */
export function buildServer(outDir = DEFAULT_SERVER_OUT_DIR): Promise<string> {
  // webui/src/server/app-root.ts: the bundle knows where the installation root is relative to itself.
  return buildNodeBundle({
    name: 'webui',
    entry: 'webui/bin/webui.ts',
    outDir,
    rootConstant: '__WEBUI_APP_ROOT__',
    splitting: true,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const entry = await buildServer(values.out !== undefined ? path.resolve(values.out) : undefined);
  console.log(`server bundle: ${path.relative(process.cwd(), entry)}`);
}
