// The operator process must not load client-node's generated API layer: its
// import alone costs ~85 MB of RSS (every model and API class), which is what
// kept the operator over its 200 MB target at 1,000 WebUIs. Types from
// client-node are fine (erased); at run time only dist/types.js (V1MicroTime)
// may load. This test loads the operator's entry modules in a fresh Node
// process and records every module it resolves.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOperator } from '../scripts/build-operator.ts';

const root = join(import.meta.dirname, '..', '..');
mkdirSync(join(root, '.tmp'), { recursive: true });

const probe = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    seen.add(r.url);
    return r;
  },
});
for (const m of JSON.parse(process.env.PROBE_ENTRIES)) await import(m);
(await import('node:fs')).writeFileSync(process.env.PROBE_OUT, JSON.stringify([...seen]));
`;

/** Imports the entries in a fresh Node, as \`node <entry> ...args\` would; returns what was resolved. */
function modulesLoadedBy(entries: string[], args: string[] = []): string[] {
  const dir = mkdtempSync(join(root, '.tmp', 'probe-'));
  try {
    const out = join(dir, 'modules.json');
    // argv[1] is a placeholder for the script, so the entry sees its args at argv.slice(2).
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe, 'probe', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', PROBE_ENTRIES: JSON.stringify(entries), PROBE_OUT: out },
    });
    if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return (JSON.parse(readFileSync(out, 'utf8')) as string[]).map((u) =>
      u.replace(/^.*\/node_modules\//, ''),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('operator footprint', () => {
  it('loads no client-node runtime module except types.js', () => {
    const loaded = modulesLoadedBy([
      join(root, 'operator/src/main.ts'),
      join(root, 'operator/src/config.ts'),
    ]);
    // The probe works: the operator's own dependencies show up.
    expect(loaded).toContain('prom-client/index.js');
    expect(loaded).toContain('@kubernetes/client-node/dist/types.js');
    const clientNode = loaded.filter((u) => u.startsWith('@kubernetes/client-node/'));
    expect(clientNode).toEqual(['@kubernetes/client-node/dist/types.js']);
    expect(loaded.filter((u) => u.startsWith('undici/') || u.startsWith('js-yaml/'))).toEqual([]);
  });

  it('the bundle the image runs is one file of our code plus the same packages, and no TypeScript', async () => {
    const out = mkdtempSync(join(root, '.tmp', 'operator-footprint-'));
    try {
      const entry = await buildOperator(out);
      // --help exits before any cluster work; every static import is loaded by then.
      const loaded = modulesLoadedBy([entry], ['--help']);
      const ours = loaded.filter((u) => u.startsWith('file://'));
      expect(ours).toEqual([`file://${entry}`]);
      expect(loaded.some((u) => u.endsWith('.ts'))).toBe(false);
      const clientNode = loaded.filter((u) => u.startsWith('@kubernetes/client-node/'));
      expect(clientNode).toEqual(['@kubernetes/client-node/dist/types.js']);
      expect(loaded).toContain('prom-client/index.js');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
