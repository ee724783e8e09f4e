/**
 * Bundles the operator (operator/bin/webui-operator.ts and everything it
 * imports) with esbuild into one plain JavaScript file:
 *   dist/operator/webui-operator.js      (+ .js.map)
 *
 * Why: running the .ts sources makes Node load its TypeScript stripper and
 * keep it, ~30 MB of RSS for the life of the process; the operator's memory
 * target is 200 MB at 1,000 WebUIs (docs/operations.md, "Memory and scale").
 * npm packages stay external, resolved from node_modules above the bundle.
 * `node operator/bin/webui-operator.ts` keeps working for development; the
 * image runs the bundle, and `make bench` measures it.
 *
 * Usage: node operator/scripts/build-operator.ts [--out DIR]   (DIR inside the install)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildNodeBundle, REPO_ROOT } from '../../scripts/node-bundle.ts';

export const DEFAULT_OPERATOR_OUT_DIR = path.join(REPO_ROOT, 'dist/operator');

/** Builds the bundle; returns the entry file. */
export function buildOperator(outDir = DEFAULT_OPERATOR_OUT_DIR): Promise<string> {
  // operator/bin/webui-operator.ts reads package.json from the install root, wherever the bundle sits.
  return buildNodeBundle({
    name: 'webui-operator',
    entry: 'operator/bin/webui-operator.ts',
    outDir,
    rootConstant: '__OPERATOR_APP_ROOT__',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const entry = await buildOperator(values.out !== undefined ? path.resolve(values.out) : undefined);
  console.log(`operator bundle: ${path.relative(process.cwd(), entry)}`);
}
