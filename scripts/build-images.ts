/**
 * `make images`: builds the webui and operator images with Docker or Podman, named and tagged from
 * package.json (scripts/image-names.ts). Where no engine answers (`docker info` / `podman info` fail),
 * it prints one line saying so and exits 1: nothing can be built without one.
 *
 * Usage: node scripts/build-images.ts [--push] [--engine docker|podman]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { type ImageNames, REPO_ROOT, readImageNames } from './image-names.ts';

export interface ImageBuild {
  name: 'webui' | 'operator';
  dockerfile: string;
  ref: string;
}

export function imageBuilds(names: ImageNames): ImageBuild[] {
  return [
    { name: 'webui', dockerfile: 'webui/Dockerfile', ref: `${names.webui.repository}:${names.webui.tag}` },
    {
      name: 'operator',
      dockerfile: 'operator/Dockerfile',
      ref: `${names.operator.repository}:${names.operator.tag}`,
    },
  ];
}

export function buildArgs(build: ImageBuild, version: string, revision: string): string[] {
  return [
    'build',
    '--file',
    build.dockerfile,
    '--tag',
    build.ref,
    '--build-arg',
    `VERSION=${version}`,
    '--build-arg',
    `REVISION=${revision}`,
    '.',
  ];
}

/** The first engine whose `info` succeeds, or undefined. */
export function findEngine(candidates: readonly string[]): string | undefined {
  return candidates.find(
    (engine) => spawnSync(engine, ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0,
  );
}

function gitRevision(): string {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function main(): void {
  const { values } = parseArgs({ options: { push: { type: 'boolean' }, engine: { type: 'string' } } });
  const engine = findEngine(values.engine ? [values.engine] : ['docker', 'podman']);
  if (!engine) {
    console.error(
      `make images: no container engine is available (\`${values.engine ?? 'docker'} info\`${values.engine ? '' : ' and `podman info`'} failed); install and start Docker or Podman to build the images`,
    );
    process.exit(1);
  }
  const names = readImageNames();
  const revision = gitRevision();
  for (const build of imageBuilds(names)) {
    console.log(`${engine}: building ${build.ref} from ${build.dockerfile}`);
    const r = spawnSync(engine, buildArgs(build, names.version, revision), {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    if (r.status !== 0) {
      console.error(`make images: ${engine} build of ${build.ref} failed (exit ${r.status ?? r.signal})`);
      process.exit(1);
    }
    if (values.push) {
      const p = spawnSync(engine, ['push', build.ref], { cwd: REPO_ROOT, stdio: 'inherit' });
      if (p.status !== 0) {
        console.error(`make images: ${engine} push of ${build.ref} failed`);
        process.exit(1);
      }
    }
  }
  console.log(
    `built ${imageBuilds(names)
      .map((b) => b.ref)
      .join(' and ')}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();
