/**
 * `make images`: builds the webui and operator images, named and tagged from package.json
 * (scripts/image-names.ts), with the first engine that works of Docker, Podman and Buildah. With
 * `--dev-cluster` it also builds what the dev cluster's node runs: the fake Ollama, CoreDNS and pause
 * (localhost/webui-operator/<name>:dev). With `--oci-dir DIR` it writes each image as an archive that
 * `ctr -n k8s.io images import DIR/<name>.tar` registers under its full reference.
 *
 * - Docker and Podman build on `node:24-slim`, as the Dockerfiles say.
 * - Buildah (daemonless; what works on a machine with no Docker engine and no registry) builds on the
 *   local base image of scripts/base-image.ts, passed as the Dockerfiles' NODE_IMAGE build argument,
 *   and caches layers (`--layers`), so the identical apt-get / npm ci steps of the two Dockerfiles run
 *   once. Images are written in Docker format: the OCI format has no HEALTHCHECK and would drop the
 *   Dockerfiles' health checks (Kubernetes ignores them, `docker run` and Podman use them).
 * - An image whose inputs did not change (the files its Dockerfile copies, the Dockerfile, its base image
 *   and build arguments; recorded as a label) is not rebuilt, and its archive is not rewritten.
 * - Where the host trusts an extra CA (NODE_EXTRA_CA_CERTS, or npm's cafile: a TLS-inspecting proxy),
 *   Buildah and Podman mount an npmrc that trusts it on /usr/local/etc during RUN steps; nothing of it
 *   is stored in the images.
 *
 * Where no engine works, it prints one line saying so and exits 1: nothing can be built without one.
 *
 * Usage: node scripts/build-images.ts [--engine docker|podman|buildah] [--dev-cluster] [--oci-dir DIR]
 *          [--node-image REF|local] [--force] [--push]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative, resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import { parseArgs } from 'node:util';
import { ensureBaseImage } from './base-image.ts';
import {
  chooseEngine,
  ENGINES,
  type EngineName,
  engineWorks,
  inspectImage,
  isEngineName,
  run,
  STAMP_LABEL,
  undoBuildahCniDir,
} from './container-engine.ts';
import { type ImageNames, REPO_ROOT, readImageNames } from './image-names.ts';

export type ImageName = 'webui' | 'operator' | 'fake-ollama' | 'coredns' | 'pause';

export interface ImageBuild {
  name: ImageName;
  /** Repository-relative Dockerfile. */
  dockerfile: string;
  /** Repository-relative build context; unused for `binary` images (their context is staged). */
  context: string;
  ref: string;
  /** FROM ${NODE_IMAGE}: takes the NODE_IMAGE build argument. */
  nodeBase: boolean;
  /** Released images take VERSION and REVISION (their OCI labels). */
  release: boolean;
  /** FROM scratch images of one static binary: its file name in the bin directory. */
  binary?: string;
}

/** The Dockerfiles' NODE_IMAGE default (ARG NODE_IMAGE=...; test/chart/dockerfiles.test.ts checks it). */
export const DEFAULT_NODE_IMAGE = 'node:24-slim';

/** The dev cluster's images (test/harness/cluster.ts pins pause and CoreDNS by these names). */
export const DEV_IMAGE_REFS = {
  'fake-ollama': 'localhost/webui-operator/fake-ollama:dev',
  coredns: 'localhost/webui-operator/coredns:dev',
  pause: 'localhost/webui-operator/pause:dev',
} as const;

export function imageBuilds(names: ImageNames): ImageBuild[] {
  const release = { nodeBase: true, release: true, context: '.' };
  return [
    {
      name: 'webui',
      dockerfile: 'webui/Dockerfile',
      ref: `${names.webui.repository}:${names.webui.tag}`,
      ...release,
    },
    {
      name: 'operator',
      dockerfile: 'operator/Dockerfile',
      ref: `${names.operator.repository}:${names.operator.tag}`,
      ...release,
    },
  ];
}

export function devClusterBuilds(): ImageBuild[] {
  const scratch = { nodeBase: false, release: false, context: '' };
  return [
    {
      name: 'fake-ollama',
      dockerfile: 'test/fake-ollama/Dockerfile',
      // Its own directory: the root context's .dockerignore leaves test/ out.
      context: 'test/fake-ollama',
      ref: DEV_IMAGE_REFS['fake-ollama'],
      nodeBase: true,
      release: false,
    },
    {
      name: 'coredns',
      dockerfile: 'test/node/images/coredns.Dockerfile',
      ref: DEV_IMAGE_REFS.coredns,
      binary: 'coredns',
      ...scratch,
    },
    {
      name: 'pause',
      dockerfile: 'test/node/images/pause.Dockerfile',
      ref: DEV_IMAGE_REFS.pause,
      binary: 'pause',
      ...scratch,
    },
  ];
}

export interface BuildArgsOptions {
  version: string;
  revision: string;
  /** The context directory handed to the engine. */
  context: string;
  /** NODE_IMAGE build argument; undefined keeps the Dockerfile's default (node:24-slim). */
  nodeImage?: string;
  /** Recorded as the STAMP_LABEL label. */
  stamp?: string;
  /** Host directory mounted read-only on /usr/local/etc during RUN steps (Buildah and Podman only). */
  buildEtc?: string;
}

/** The engine's build command line for one image. */
export function buildArgs(engine: EngineName, build: ImageBuild, o: BuildArgsOptions): string[] {
  const localBase = o.nodeImage?.startsWith('localhost/') ?? false;
  const engineFlags: string[] =
    engine === 'docker'
      ? ['build']
      : [
          engine === 'buildah' ? 'bud' : 'build',
          // Docker format keeps HEALTHCHECK (the OCI image config has no such field).
          '--format',
          'docker',
          // --force-rm: a failed step must not leave its working container behind (Podman's default).
          ...(engine === 'buildah' ? ['--layers', '--force-rm', '--network', 'host'] : []),
          ...(localBase ? ['--pull=never'] : []),
          ...(o.buildEtc ? ['--volume', `${o.buildEtc}:/usr/local/etc:ro`] : []),
        ];
  const buildArg = (kv: string) => ['--build-arg', kv];
  return [
    ...engineFlags,
    '--file',
    build.dockerfile,
    '--tag',
    build.ref,
    ...(build.release ? [...buildArg(`VERSION=${o.version}`), ...buildArg(`REVISION=${o.revision}`)] : []),
    ...(build.nodeBase && o.nodeImage ? buildArg(`NODE_IMAGE=${o.nodeImage}`) : []),
    ...(o.stamp ? ['--label', `${STAMP_LABEL}=${o.stamp}`] : []),
    o.context,
  ];
}

/** Where the image archive goes, and the command that writes it so that containerd names it by `ref`. */
export function archiveArgs(engine: EngineName, ref: string, file: string): string[] {
  // Buildah and Podman write an OCI archive whose index.json carries the full reference as
  // org.opencontainers.image.ref.name: `ctr images import` keeps a ref.name that contains '/' or ':' as
  // the image name. `docker save` writes manifest.json RepoTags, which containerd names images by.
  // OCI rather than docker-archive: gzip layers (a third of the size); the OCI config drops HEALTHCHECK,
  // which neither containerd nor the kubelet uses.
  return engine === 'docker' ? ['save', '--output', file, ref] : ['push', ref, `oci-archive:${file}:${ref}`];
}

// --- inputs and stamps -----------------------------------------------------------------------------

/** Context paths the Dockerfile copies from (COPY/ADD without --from), in order. */
export function copySources(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(COPY|ADD)\s/i.test(l) && !/\s--from=/.test(l))
    .flatMap((l) => {
      const parts = l
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1).map((p) => p.replace(/\/+$/, '').replace(/^\.\//, ''));
    });
}

/** .dockerignore lines: comments and blank lines dropped (`!` exceptions are not used here). */
export function parseDockerignore(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'))
    .map((l) => l.replace(/^\/+/, '').replace(/\/+$/, ''));
}

/** Docker's matching, as far as this repository needs it: anchored at the context root, `**` globs, and a
 * pattern that matches a directory excludes everything under it. */
export function isIgnored(path: string, patterns: readonly string[]): boolean {
  const parts = path.split('/');
  return patterns.some((p) => parts.some((_, i) => matchesGlob(parts.slice(0, i + 1).join('/'), p)));
}

export interface ContextFile {
  path: string;
  sha256: string;
  mode: number;
}

/** What an image is built from; a change to any of it rebuilds the image. */
export function imageStamp(inputs: {
  dockerfile: string;
  files: readonly ContextFile[];
  baseId: string;
  args: readonly string[];
}): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ base: inputs.baseId, args: inputs.args, dockerfile: inputs.dockerfile }));
  for (const f of [...inputs.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    h.update(`\n${f.path} ${f.mode.toString(8)} ${f.sha256}`);
  }
  return h.digest('hex').slice(0, 32);
}

/** A CA bundle for npm's `cafile` (which replaces the default roots): Node's roots plus the host's extra. */
export function caBundle(roots: readonly string[], extraPem: string): string {
  return `${[...roots, extraPem.trim()].join('\n')}\n`;
}

/** The extra CA file the host trusts: NODE_EXTRA_CA_CERTS, else npm's cafile (`npm config get cafile`). */
export function hostExtraCa(env: NodeJS.ProcessEnv, npmCafile: string | undefined): string | undefined {
  const fromNpm = npmCafile && npmCafile !== 'null' && npmCafile !== 'undefined' ? npmCafile : undefined;
  return env.NODE_EXTRA_CA_CERTS || fromNpm || undefined;
}

// --- I/O ----------------------------------------------------------------------------------------------

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Every file under `sources` (relative to `contextDir`) that the engine would send, hashed. */
function contextFiles(
  contextDir: string,
  sources: readonly string[],
  ignore: readonly string[],
): ContextFile[] {
  const out: ContextFile[] = [];
  const visit = (rel: string) => {
    if (isIgnored(rel, ignore)) return;
    const abs = join(contextDir, rel);
    const st = lstatSync(abs);
    if (st.isDirectory()) {
      for (const e of readdirSync(abs).sort()) visit(`${rel}/${e}`);
    } else if (st.isSymbolicLink()) {
      out.push({ path: rel, sha256: `-> ${readlinkSync(abs)}`, mode: st.mode });
    } else {
      out.push({ path: rel, sha256: sha256File(abs), mode: st.mode });
    }
  };
  for (const s of sources) {
    if (!existsSync(join(contextDir, s)))
      throw new Error(`${relative(REPO_ROOT, contextDir) || '.'}/${s} is missing`);
    visit(s);
  }
  return out;
}

function gitRevision(): string {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** For Buildah/Podman on a host behind a TLS-inspecting proxy: a directory with an npmrc that trusts it. */
function stageBuildEtc(dir: string): string | undefined {
  const npmCafile = process.env.NODE_EXTRA_CA_CERTS
    ? undefined
    : spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout?.trim();
  const extra = hostExtraCa(process.env, npmCafile);
  if (!extra || !existsSync(extra)) return undefined;
  const etc = join(dir, 'build-etc');
  mkdirSync(etc);
  writeFileSync(join(etc, 'build-ca.pem'), caBundle(rootCertificates, readFileSync(extra, 'utf8')));
  writeFileSync(join(etc, 'npmrc'), 'cafile=/usr/local/etc/build-ca.pem\n');
  return etc;
}

export interface BuildImagesOptions {
  engine: EngineName;
  /** NODE_IMAGE: `local` builds and uses scripts/base-image.ts's image; undefined keeps node:24-slim. */
  nodeImage?: string;
  /** Write each image to <ociDir>/<name>.tar for `ctr images import`. */
  ociDir?: string;
  /** Where the coredns and pause binaries are (default bin/). */
  binDir?: string;
  /** Rebuild even when the stamp says nothing changed. */
  force?: boolean;
  /** Show the engines' output only when a step fails. */
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  name: ImageName;
  ref: string;
  id: string;
  /** Uncompressed bytes. */
  size: number;
  /** False when the image with the same stamp already existed. */
  built: boolean;
  seconds: number;
  archive?: string;
  archiveBytes?: number;
}

/** What every image of one run shares. */
interface RunContext {
  engine: EngineName;
  names: ImageNames;
  revision: string;
  binDir: string;
  /** .dockerignore patterns of the repository root context. */
  ignore: string[];
  /** NODE_IMAGE passed to Node-based builds (undefined: the Dockerfiles' default) and its image id. */
  nodeImage?: string;
  baseId?: string;
  buildEtc?: string;
  tmp: string;
  force: boolean;
  quiet: boolean;
}

/** The files an image is built from, relative to its context; for binary images, the binary itself. */
function inputFiles(build: ImageBuild, dockerfile: string, ctx: RunContext): ContextFile[] {
  if (!build.binary) {
    const dir = join(REPO_ROOT, build.context);
    return contextFiles(dir, copySources(dockerfile), build.context === '.' ? ctx.ignore : []);
  }
  const bin = join(ctx.binDir, build.binary);
  if (!existsSync(bin)) {
    const target = build.name === 'pause' ? 'envtest-assets' : 'node-assets';
    throw new Error(`${bin} is missing: the ${build.name} image packages it (make ${target} builds it)`);
  }
  return [{ path: build.binary, sha256: sha256File(bin), mode: statSync(bin).mode }];
}

/** The build context handed to the engine: a directory holding only the binary for binary images. */
function contextFor(build: ImageBuild, ctx: RunContext): string {
  if (!build.binary) return build.context;
  const dir = join(ctx.tmp, `context-${build.name}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ctx.binDir, build.binary), join(dir, build.binary));
  return dir;
}

/** Builds one image unless its stamp matches the existing image's label. */
async function buildOne(
  build: ImageBuild,
  ctx: RunContext,
): Promise<{ id: string; size: number; built: boolean }> {
  const dockerfile = readFileSync(join(REPO_ROOT, build.dockerfile), 'utf8');
  const files = inputFiles(build, dockerfile, ctx);
  const baseRef = build.nodeBase ? (ctx.nodeImage ?? DEFAULT_NODE_IMAGE) : 'scratch';
  const baseId = build.nodeBase ? ctx.baseId : 'scratch';
  // No stamp (always build) when the base is not in local storage: the engine will pull it.
  const stamp =
    baseId &&
    imageStamp({ dockerfile, files, baseId, args: [build.release ? ctx.names.version : '', baseRef] });
  const existing = inspectImage(ctx.engine, build.ref);
  const upToDate = !ctx.force && stamp !== undefined && existing?.labels[STAMP_LABEL] === stamp;
  if (!upToDate) {
    const args = buildArgs(ctx.engine, build, {
      version: ctx.names.version,
      revision: ctx.revision,
      context: contextFor(build, ctx),
      ...(build.nodeBase && ctx.nodeImage ? { nodeImage: ctx.nodeImage } : {}),
      ...(stamp ? { stamp } : {}),
      ...(ctx.buildEtc ? { buildEtc: ctx.buildEtc } : {}),
    });
    await run(ctx.engine, args, { cwd: REPO_ROOT, quiet: ctx.quiet });
  }
  const image = inspectImage(ctx.engine, build.ref);
  if (!image) throw new Error(`${ctx.engine} built ${build.ref} but cannot inspect it`);
  return { id: image.id, size: image.size, built: !upToDate };
}

/** Writes <ociDir>/<name>.tar unless it already holds this image id (recorded next to it). */
async function writeArchive(
  engine: EngineName,
  build: ImageBuild,
  id: string,
  ociDir: string,
): Promise<string> {
  mkdirSync(ociDir, { recursive: true });
  const archive = join(ociDir, `${build.name}.tar`);
  const idFile = `${archive}.id`;
  if (existsSync(archive) && existsSync(idFile) && readFileSync(idFile, 'utf8').trim() === id) return archive;
  rmSync(archive, { force: true });
  await run(engine, archiveArgs(engine, build.ref, archive), { cwd: REPO_ROOT, quiet: true });
  writeFileSync(idFile, `${id}\n`);
  return archive;
}

/** Builds the given images in order (skipping those whose stamp matches) and writes their archives. */
export async function buildImages(
  builds: readonly ImageBuild[],
  opts: BuildImagesOptions,
): Promise<BuiltImage[]> {
  const undoCni = undoBuildahCniDir(opts.engine);
  try {
    return await buildImagesIn(builds, opts);
  } finally {
    undoCni();
  }
}

async function buildImagesIn(builds: readonly ImageBuild[], opts: BuildImagesOptions): Promise<BuiltImage[]> {
  const { engine } = opts;
  const log = opts.log ?? ((l: string) => console.error(l));
  const quiet = opts.quiet ?? false;
  let nodeImage = opts.nodeImage;
  if (nodeImage === 'local' && builds.some((b) => b.nodeBase)) {
    const base = await ensureBaseImage({ engine, quiet, log, ...(opts.force ? { force: true } : {}) });
    log(`${engine}: base ${base.ref} ${base.built ? 'built' : 'is up to date'}`);
    nodeImage = base.ref;
  }
  const baseId = inspectImage(engine, nodeImage ?? DEFAULT_NODE_IMAGE)?.id;
  const tmp = mkdtempSync(join(tmpdir(), 'webui-images-'));
  try {
    const buildEtc = engine === 'docker' ? undefined : stageBuildEtc(tmp);
    if (buildEtc)
      log(`${engine}: RUN steps trust the host's extra CA (an npmrc on /usr/local/etc, not kept)`);
    const ctx: RunContext = {
      engine,
      names: readImageNames(),
      revision: gitRevision(),
      binDir: opts.binDir ?? join(REPO_ROOT, 'bin'),
      ignore: parseDockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')),
      ...(nodeImage ? { nodeImage } : {}),
      ...(baseId ? { baseId } : {}),
      ...(buildEtc ? { buildEtc } : {}),
      tmp,
      force: opts.force ?? false,
      quiet,
    };
    const out: BuiltImage[] = [];
    for (const build of builds) {
      const t0 = Date.now();
      log(`${engine}: ${build.ref} (${build.dockerfile})`);
      const image = await buildOne(build, ctx);
      const result: BuiltImage = { name: build.name, ref: build.ref, ...image, seconds: 0 };
      if (opts.ociDir !== undefined) {
        result.archive = await writeArchive(engine, build, image.id, resolve(REPO_ROOT, opts.ociDir));
        result.archiveBytes = statSync(result.archive).size;
      }
      result.seconds = (Date.now() - t0) / 1000;
      log(
        `${engine}: ${build.ref} ${image.built ? 'built' : 'is up to date'} (${result.seconds.toFixed(1)} s)`,
      );
      out.push(result);
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The first engine whose `info` succeeds, or undefined. */
export function findEngine(candidates: readonly string[]): string | undefined {
  return chooseEngine(candidates, engineWorks);
}

/** NODE_IMAGE per engine: Buildah uses the local base (no registry needed); the others pull node:24-slim. */
export function defaultNodeImage(engine: EngineName): string | undefined {
  return engine === 'buildah' ? 'local' : undefined;
}

export interface DevImage {
  name: ImageName;
  ref: string;
  /** An archive for `ctr -n k8s.io images import`. */
  archive: string;
}

/**
 * Every image the dev cluster runs (webui, operator, fake-ollama, coredns, pause), built with the first
 * engine that works unless one is given, and written to `<ociDir>/<name>.tar`. Unchanged images take
 * no build and no export: a second call costs seconds.
 */
export async function buildDevImages(opts: {
  ociDir: string;
  engine?: EngineName;
  binDir?: string;
  force?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
}): Promise<DevImage[]> {
  const engine = opts.engine ?? chooseEngine(ENGINES, engineWorks);
  if (!engine) throw new Error(noEngineMessage(undefined));
  const nodeImage = defaultNodeImage(engine);
  const built = await buildImages([...imageBuilds(readImageNames()), ...devClusterBuilds()], {
    ...opts,
    engine,
    ...(nodeImage ? { nodeImage } : {}),
  });
  return built.map((b) => ({ name: b.name, ref: b.ref, archive: b.archive ?? '' }));
}

function noEngineMessage(asked: string | undefined): string {
  const probes = asked ? `\`${asked} info\`` : ENGINES.map((e) => `\`${e} info\``).join(', ');
  return `make images: no container engine is available (${probes} failed); install and start Docker or Podman, or install buildah and mmdebstrap, to build the images`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      push: { type: 'boolean', default: false },
      engine: { type: 'string' },
      'dev-cluster': { type: 'boolean', default: false },
      'oci-dir': { type: 'string' },
      'node-image': { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  if (values.engine !== undefined && !isEngineName(values.engine)) {
    console.error(`make images: --engine must be one of ${ENGINES.join(', ')}; got "${values.engine}"`);
    process.exit(2);
  }
  const engine = chooseEngine(values.engine ? [values.engine] : ENGINES, engineWorks);
  if (!engine) {
    console.error(noEngineMessage(values.engine));
    process.exit(1);
  }
  const names = readImageNames();
  const builds = [...imageBuilds(names), ...(values['dev-cluster'] ? devClusterBuilds() : [])];
  const nodeImage = values['node-image'] ?? defaultNodeImage(engine);
  const t0 = Date.now();
  const built = await buildImages(builds, {
    engine,
    force: values.force,
    ...(nodeImage ? { nodeImage } : {}),
    ...(values['oci-dir'] ? { ociDir: values['oci-dir'] } : {}),
  });
  if (values.push) {
    for (const b of builds.filter((x) => x.release)) await run(engine, ['push', b.ref], { cwd: REPO_ROOT });
  }
  for (const b of built) {
    const archive = b.archive ? `, ${relative(REPO_ROOT, b.archive)} ${mb(b.archiveBytes ?? 0)}` : '';
    console.log(
      `${b.ref}  ${mb(b.size)}${archive}  (${b.built ? 'built' : 'up to date'}, ${b.seconds.toFixed(1)} s)`,
    );
  }
  console.log(`${engine}: ${built.length} images in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
