// `make images` where no container engine exists (as here): one clear line, and a failing exit code, so
// that nobody mistakes "nothing was built" for success.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/image-names.ts';

// An empty PATH directory: neither docker nor podman can be found, whatever the machine has.
const emptyBin = mkdtempSync(join(tmpdir(), 'no-engine-'));
afterAll(() => rmSync(emptyBin, { recursive: true, force: true }));

it('make images says it cannot build without Docker or Podman, and fails', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build-images.ts')], {
    cwd: REPO_ROOT,
    env: { PATH: emptyBin },
    encoding: 'utf8',
  });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^make images: no container engine is available .*install and start Docker or Podman/,
  );
});
