/**
 * The README's two commands on a fresh machine: with no node, npm or go on PATH, `make` fetches
 * Node and npm from the npm registry and the Go toolchain from the Go module proxy (pinned and
 * checked), and with nothing to fetch them with it stops with one line naming the command to run.
 * Runs in a copy of the Makefile and scripts/bootstrap, so the project's own .tools is untouched.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/binaries.ts';

const scratch = mkdtempSync(join(tmpdir(), 'webui-bootstrap-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A bin directory with every system command except `hidden` (PATH is only this directory). */
function systemBinWithout(name: string, hidden: readonly string[]): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const from of ['/usr/local/sbin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    let entries: string[] = [];
    try {
      entries = readdirSync(from);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (hidden.includes(e)) continue;
      try {
        symlinkSync(join(from, e), join(dir, e));
      } catch {
        // the same name from an earlier directory wins, as on PATH
      }
    }
  }
  return dir;
}

/** The files `make node-version` and `make go-toolchain` need, in a fresh directory. */
function checkout(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  cpSync(join(REPO_ROOT, 'Makefile'), join(dir, 'Makefile'));
  cpSync(join(REPO_ROOT, 'scripts', 'bootstrap'), join(dir, 'scripts', 'bootstrap'), { recursive: true });
  return dir;
}

function run(cwd: string, path: string, cmd: string[]) {
  const r = spawnSync(cmd[0] ?? 'make', cmd.slice(1), {
    cwd,
    encoding: 'utf8',
    env: { HOME: process.env.HOME ?? '/root', PATH: path },
    // Not a socket on stdin: Debian's bash would then read bash.bashrc, as for an ssh session.
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const NO_TOOLCHAINS = ['node', 'nodejs', 'npm', 'npx', 'corepack', 'go', 'gofmt'];

describe('a machine with no node, npm or go on PATH', () => {
  it('make node-version and make go-toolchain fetch Node 24 with npm, and Go 1.26, into .tools', () => {
    const bin = systemBinWithout('bin-plain', NO_TOOLCHAINS);
    const dir = checkout('plain');
    const r = run(dir, bin, ['make', 'node-version', 'go-toolchain']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/bootstrap: Node 24\.\d+\.\d+ and npm \d+\.\d+\.\d+ from /);
    expect(r.out).toMatch(/^v24\.\d+\.\d+$/m);
    expect(r.out).toMatch(/bootstrap: Go 1\.26\.\d+ from .*golang\.org\/toolchain/);
    expect(r.out).toMatch(/^go version go1\.26\.\d+ linux\//m);
    // npm works with the fetched Node, and the tools are where the Makefile puts them on PATH.
    const npm = run(dir, `${join(dir, '.tools/node/bin')}:${bin}`, ['npm', '--version']);
    expect(npm.code, npm.out).toBe(0);
    // Done once: a second run fetches nothing.
    const again = run(dir, bin, ['make', 'node-version', 'go-toolchain']);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain('bootstrap:');
  }, 600_000);

  it('with no curl or wget either, make stops with one line that names what to install', () => {
    const bin = systemBinWithout('bin-bare', [...NO_TOOLCHAINS, 'curl', 'wget']);
    const r = run(checkout('bare'), bin, ['make', 'node-version']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(
      'bootstrap: Node 22 or newer is needed, and there is no curl or wget to fetch it: sudo apt-get install -y curl',
    );
  });
});

describe('Debian packages make test needs', () => {
  it('as a user without sudo, a missing package stops with one line naming the apt-get command', () => {
    // Stand-ins: dpkg knows no package, `id -u` is a user's, and there is no sudo.
    const bin = systemBinWithout('bin-user', ['dpkg', 'id', 'sudo']);
    writeFileSync(join(bin, 'dpkg'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(bin, 'id'), '#!/bin/sh\necho 1000\n', { mode: 0o755 });
    const r = run(REPO_ROOT, bin, [
      'sh',
      join(REPO_ROOT, 'scripts/bootstrap/apt.sh'),
      'make test',
      'chromium',
      'postgresql',
    ]);
    expect(r.code).toBe(1);
    expect(r.out.trim()).toBe(
      'make test needs Debian packages that are missing; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium postgresql',
    );
  });

  it('present packages pass without apt-get', () => {
    const bin = systemBinWithout('bin-present', ['apt-get']);
    const r = run(REPO_ROOT, bin, ['sh', join(REPO_ROOT, 'scripts/bootstrap/apt.sh'), 'make test', 'make']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('make test: Debian packages present (make)');
  });
});
