// `make images`: where no container engine exists, one clear line and a failing exit code, so that nobody
// mistakes "nothing was built" for success; where one does (Buildah here), the smallest real build: the
// pause image, its archive for `ctr images import`, and no rebuild when nothing changed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImages, devClusterBuilds, type ImageBuild } from '../../scripts/build-images.ts';
import { chooseEngine, ENGINES, engineWorks } from '../../scripts/container-engine.ts';
import { REPO_ROOT } from '../../scripts/image-names.ts';

// An empty PATH directory: no docker, podman or buildah can be found, whatever the machine has.
const emptyBin = mkdtempSync(join(tmpdir(), 'no-engine-'));
const work = mkdtempSync(join(tmpdir(), 'images-int-'));
const engine = chooseEngine(ENGINES, engineWorks);
const TEST_REF = 'localhost/webui-operator/pause:int-test';
afterAll(() => {
  rmSync(emptyBin, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  if (engine) spawnSync(engine, ['rmi', TEST_REF], { stdio: 'ignore' });
});

it('make images says it cannot build without Docker, Podman or Buildah, and fails', () => {
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
    /^make images: no container engine is available \(`docker info`, `podman info`, `buildah info` failed\); install and start Docker or Podman/,
  );
});

if (!engine)
  console.warn('SKIPPED: no container engine (docker, podman or buildah): the image build test did not run');

/** The names an archive gives its images: OCI index.json annotations, or Docker manifest.json RepoTags. */
function archiveNames(file: string): string[] {
  const index = spawnSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8' });
  const oci =
    index.status === 0
      ? (JSON.parse(index.stdout) as { manifests: { annotations?: Record<string, string> }[] })
      : undefined;
  if (oci?.manifests.some((m) => m.annotations)) {
    return oci.manifests.flatMap((m) => [
      m.annotations?.['io.containerd.image.name'] ??
        m.annotations?.['org.opencontainers.image.ref.name'] ??
        '',
    ]);
  }
  const docker = spawnSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' });
  return (JSON.parse(docker.stdout) as { RepoTags?: string[] }[]).flatMap((m) => m.RepoTags ?? []);
}

describe.skipIf(!engine)(`a real build with ${engine}`, () => {
  const pause = devClusterBuilds().find((b) => b.name === 'pause');
  const build: ImageBuild = { ...(pause as ImageBuild), ref: TEST_REF };
  const binDir = join(work, 'bin');
  const ociDir = join(work, 'oci');
  const quietly = { engine: engine ?? 'buildah', binDir, ociDir, quiet: true, log: () => {} } as const;

  it('builds the pause image once, writes an archive named by its full reference, and skips it when unchanged', async () => {
    const source = join(REPO_ROOT, 'bin', 'pause');
    expect(existsSync(source), 'bin/pause exists (make envtest-assets)').toBe(true);
    mkdirSync(binDir);
    copyFileSync(source, join(binDir, 'pause'));
    spawnSync(engine ?? '', ['rmi', TEST_REF], { stdio: 'ignore' });

    const [first] = await buildImages([build], quietly);
    expect(first).toMatchObject({ name: 'pause', ref: TEST_REF, built: true });
    expect(first?.archive).toBe(join(ociDir, 'pause.tar'));
    expect(archiveNames(first?.archive ?? '')).toEqual([TEST_REF]);
    const written = statSync(first?.archive ?? '').mtimeMs;

    const [second] = await buildImages([build], quietly);
    expect(second).toMatchObject({ built: false, id: first?.id });
    expect(statSync(second?.archive ?? '').mtimeMs).toBe(written);

    // A changed binary is a changed input: a new image and a new archive.
    appendFileSync(join(binDir, 'pause'), '\n');
    const [third] = await buildImages([build], quietly);
    expect(third?.built).toBe(true);
    expect(third?.id).not.toBe(first?.id);
    expect(archiveNames(third?.archive ?? '')).toEqual([TEST_REF]);
    // The first image lost its tag to the third: remove it rather than leave it dangling.
    spawnSync(engine ?? '', ['rmi', first?.id ?? ''], { stdio: 'ignore' });
  });
});
