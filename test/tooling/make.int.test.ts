/**
 * The developer commands the docs give work whatever Node is first on PATH
 * (this machine's system Node is 20, which cannot run the project), and
 * `make help` lists the targets the docs name.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/binaries.ts';

/** A PATH with the system's directories only: no project Node, no node_modules/.bin. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function make(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('make', ['-s', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { HOME: process.env.HOME ?? '/root', PATH: SYSTEM_PATH, ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

it('make help lists every target the docs use, with no make escapes showing', () => {
  const { code, out } = make(['help']);
  expect(code, out).toBe(0);
  for (const target of [
    'run',
    'test',
    'test-unit',
    'test-integration',
    'test-browser',
    'test-e2e',
    'e2e-k3s',
    'run-operator',
    'vitest',
    'webui',
    'shell-env',
    'dev-cluster',
  ]) {
    expect(out, target).toMatch(new RegExp(`^  make ${target} `, 'm'));
  }
  expect(out).not.toContain('$$');
});

it("make webui and make vitest run with the project's Node, not the one first on PATH", () => {
  const cli = make(['webui', 'ARGS=--help']);
  expect(cli.code, cli.out).toBe(0);
  expect(cli.out).toMatch(/^usage: webui serve/m);
  const vitest = make(['vitest', 'ARGS=--version']);
  expect(vitest.code, vitest.out).toBe(0);
  expect(vitest.out).toMatch(/vitest\/\d+\.\d+\.\d+/);
});

it('eval "$(make -s shell-env)" puts a Node >= 22 and the project tools first on PATH', () => {
  const r = spawnSync('bash', ['-c', 'eval "$(make -s shell-env)" && node --version && command -v vitest'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { HOME: process.env.HOME ?? '/root', PATH: SYSTEM_PATH },
    timeout: 120_000,
  });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  const [version, vitest] = r.stdout.trim().split('\n');
  expect(Number(/^v(\d+)\./.exec(version ?? '')?.[1])).toBeGreaterThanOrEqual(22);
  expect(vitest).toBe(`${REPO_ROOT}/node_modules/.bin/vitest`);
});
