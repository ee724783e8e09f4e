/**
 * The local Node base image, for machines where `node:24-slim` cannot be pulled (no registry is
 * reachable). Same role and layout as the official image: Debian minbase (apt-get, groupadd/useradd,
 * a shell) of the machine's own Debian release, Node and npm/npx in /usr/local, a `node` user (1000),
 * `CMD ["node"]`, documentation trimmed the way debian:*-slim trims it.
 *
 * - Debian comes from `mmdebstrap --variant=minbase`, with the mirrors, suites and keyrings read at run
 *   time from this machine's apt configuration (enabled Debian `main` entries only), so no mirror URL
 *   is written into the repository. The image keeps them in /etc/apt/sources.list for its `apt-get`.
 * - Node is the npm registry's `node-linux-<arch>@<NODE_VERSION>` (NODE_VERSION in
 *   scripts/bootstrap/node.sh, the single source of truth, which the Makefile reads too); npm is the `npm` package at the version that Node release bundles, read
 *   from that release's own CHANGELOG.md.
 * - The rootfs is imported into the engine's storage as `localhost/webui-node-base:<node>-<codename>`
 *   with a label holding the input stamp (Node version, apt sources, this script); a second run with
 *   the same stamp does nothing.
 *
 * Usage: node scripts/base-image.ts [--engine buildah|podman|docker] [--force] [--npm-version X.Y.Z]
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type EngineName,
  type ImageInfo,
  inspectImage,
  isEngineName,
  run,
  STAMP_LABEL,
} from './container-engine.ts';
import { REPO_ROOT } from './image-names.ts';

// --- apt sources ---------------------------------------------------------------------------------------

export interface AptSource {
  /** The file it came from, for error messages. */
  file: string;
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** Signed-By: a keyring path (or, unsupported here, an inline key or fingerprints). */
  signedBy?: string;
  enabled: boolean;
}

/** One-line format (sources.list, *.list): `deb [opt=v ...] uri suite component...`; `#` lines are off. */
export function parseOneLineSources(file: string, text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const [, type = '', opts = '', uri = '', suite = '', comps = ''] = m;
    const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(opts)?.[1];
    out.push({
      file,
      types: [type],
      uris: [uri],
      suites: [suite],
      components: comps.split(/\s+/).filter(Boolean),
      ...(signedBy ? { signedBy } : {}),
      enabled: true,
    });
  }
  return out;
}

/** deb822 format (*.sources): paragraphs of `Field: value`, continuation lines indented, `#` comments. */
export function parseDeb822Sources(file: string, text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const para of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of para.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^[ \t]/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''}\n${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = (m[1] ?? '').toLowerCase();
      fields.set(last, (m[2] ?? '').trim());
    }
    const list = (name: string) => (fields.get(name) ?? '').split(/\s+/).filter(Boolean);
    if (!fields.has('types') || !fields.has('uris')) continue;
    const signedBy = fields.get('signed-by')?.trim();
    out.push({
      file,
      types: list('types'),
      uris: list('uris'),
      suites: list('suites'),
      components: list('components'),
      ...(signedBy ? { signedBy } : {}),
      enabled: (fields.get('enabled') ?? 'yes').toLowerCase() !== 'no',
    });
  }
  return out;
}

/** Every entry of the given files, as apt reads them: *.list and *.sources only (apt ignores the rest). */
export function parseAptSources(files: readonly { path: string; text: string }[]): AptSource[] {
  return files.flatMap(({ path, text }) => {
    if (path.endsWith('.sources')) return parseDeb822Sources(path, text);
    if (path.endsWith('.list')) return parseOneLineSources(path, text);
    return [];
  });
}

export interface DebianMirror {
  uri: string;
  suite: string;
  signedBy?: string;
}

export interface DebianRelease {
  /** The release the image is built from: the suite without -updates/-security (e.g. bookworm). */
  codename: string;
  /** The release first, then its -updates and -security suites; component `main` only. */
  mirrors: DebianMirror[];
}

const SUITE = /^([a-z]+)(-updates|-security)?$/;
const DEBIAN_KEYRING = /(^|\/)debian-archive-[^/]*$/;
const DEBIAN_URI_PATH = /\/debian(-security)?\/?$/;

/**
 * Is this a Debian archive entry? Signed by a debian-archive keyring file, or (without a keyring file) on
 * a URI whose path is /debian or /debian-security. Third-party repositories (nodesource, cloud SDKs) are not.
 */
export function isDebianSource(s: AptSource): boolean {
  if (s.signedBy?.startsWith('/')) return DEBIAN_KEYRING.test(s.signedBy);
  return s.uris.length > 0 && s.uris.every((u) => DEBIAN_URI_PATH.test(u.replace(/[?#].*$/, '')));
}

/** The Debian release and `main` mirrors the image is built from; throws one line when there is none. */
export function debianRelease(sources: readonly AptSource[]): DebianRelease {
  const mirrors: DebianMirror[] = [];
  for (const s of sources) {
    if (!s.enabled || !s.types.includes('deb') || !s.components.includes('main') || !isDebianSource(s))
      continue;
    if (s.signedBy !== undefined && !s.signedBy.startsWith('/')) {
      throw new Error(
        `apt source ${s.file}: Signed-By must be a keyring file path for the base image (inline keys and fingerprints are not supported)`,
      );
    }
    for (const uri of s.uris) {
      for (const suite of s.suites.filter((x) => SUITE.test(x))) {
        if (!mirrors.some((m) => m.uri === uri && m.suite === suite)) {
          mirrors.push({ uri, suite, ...(s.signedBy ? { signedBy: s.signedBy } : {}) });
        }
      }
    }
  }
  const codenames = [...new Set(mirrors.map((m) => SUITE.exec(m.suite)?.[1] ?? ''))];
  if (codenames.length !== 1) {
    throw new Error(
      codenames.length === 0
        ? 'apt sources: no enabled Debian `main` entry (in /etc/apt/sources.list or /etc/apt/sources.list.d/*.list|*.sources) to build the base image from'
        : `apt sources: enabled Debian entries name several releases (${codenames.join(', ')}); the base image needs exactly one`,
    );
  }
  const codename = codenames[0] ?? '';
  if (!mirrors.some((m) => m.suite === codename)) {
    throw new Error(`apt sources: no enabled Debian \`main\` entry for the release ${codename} itself`);
  }
  const rank = (suite: string) => ['', '-updates', '-security'].indexOf(SUITE.exec(suite)?.[2] ?? '');
  return { codename, mirrors: [...mirrors].sort((a, b) => rank(a.suite) - rank(b.suite)) };
}

/** One-line sources entries for mmdebstrap (one suite per line: the one-line format has one). */
export function sourcesLines(mirrors: readonly DebianMirror[]): string[] {
  return mirrors.map((m) => `deb ${m.signedBy ? `[signed-by=${m.signedBy}] ` : ''}${m.uri} ${m.suite} main`);
}

/** Keyrings the image must get a copy of: those its debian-archive-keyring package does not install. */
export function keyringsToCopy(mirrors: readonly DebianMirror[]): string[] {
  const provided = /^\/(usr\/share\/keyrings|etc\/apt\/trusted\.gpg\.d)\/debian-archive-/;
  return [...new Set(mirrors.flatMap((m) => (m.signedBy && !provided.test(m.signedBy) ? [m.signedBy] : [])))];
}

// --- Node and npm --------------------------------------------------------------------------------------

/** NODE_VERSION from scripts/bootstrap/node.sh: the Node that make bootstraps is the Node of the images. */
export function nodeVersionFromBootstrap(script: string): string {
  const v = /^NODE_VERSION=(\S+)\s*$/m.exec(script)?.[1];
  if (!v || !/^\d+\.\d+\.\d+$/.test(v)) {
    throw new Error(
      'scripts/bootstrap/node.sh: NODE_VERSION must be set to a version like 24.21.0 (it picks the Node of the images)',
    );
  }
  return v;
}

/** The npm registry package holding the Node binary, and the OpenSSL header directory that matches it. */
export function nodePackageFor(arch: string): { name: string; opensslArch: string } {
  const map: Record<string, string> = { x64: 'linux-x86_64', arm64: 'linux-aarch64' };
  const opensslArch = map[arch];
  if (!opensslArch) throw new Error(`base image: architecture ${arch} is not supported (x64, arm64)`);
  return { name: `node-linux-${arch}`, opensslArch };
}

/**
 * The npm version a Node release bundles, from that release line's CHANGELOG.md (shipped in the Node
 * package): the first "upgrade npm to X" at or below the release's own entry (entries are newest first).
 */
export function bundledNpmVersion(changelog: string, nodeVersion: string): string {
  const start = changelog.indexOf(`<a id="${nodeVersion}"></a>`);
  if (start < 0)
    throw new Error(`Node ${nodeVersion}: its CHANGELOG.md has no entry for it (pass --npm-version)`);
  const v = /\*\*deps\*\*: upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog.slice(start))?.[1];
  if (!v) throw new Error(`Node ${nodeVersion}: its CHANGELOG.md names no bundled npm (pass --npm-version)`);
  return v;
}

/** The file `npm pack name@version` writes (unscoped packages). */
export const packFile = (name: string, version: string) => `${name}-${version}.tgz`;

// --- the image -----------------------------------------------------------------------------------------

export function baseImageRef(nodeVersion: string, codename: string): string {
  return `localhost/webui-node-base:${nodeVersion}-${codename}`;
}

/** What the base image is built from; a change to any of it rebuilds the image. */
export function baseImageStamp(inputs: {
  nodeVersion: string;
  release: DebianRelease;
  script: string;
}): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ node: inputs.nodeVersion, apt: sourcesLines(inputs.release.mirrors) }));
  h.update(inputs.script);
  return h.digest('hex').slice(0, 32);
}

/**
 * dpkg path filters of debian:*-slim (debuerreotype's slimify): no man pages, info, locales or docs
 * except copyright files. They stay in the image (/etc/dpkg/dpkg.cfg.d), so the build stages' own
 * `apt-get install` is slim too.
 */
export const SLIM_DPKG_FILTERS: readonly string[] = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/linda/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
];

export interface MmdebstrapPlan {
  release: DebianRelease;
  /** A tar of /usr/local (node, npm, npx, headers) owned by root. */
  usrLocalTar: string;
  /** The rootfs tarball to write. */
  output: string;
  /** mmdebstrap's hook directory that makes merged-/usr without the usrmerge package (and its Perl). */
  mergedUsrHooks: string;
}

export function mmdebstrapArgs(plan: MmdebstrapPlan): string[] {
  const https = plan.release.mirrors.some((m) => m.uri.startsWith('https:'));
  const copies = keyringsToCopy(plan.release.mirrors);
  return [
    '--variant=minbase',
    // passwd: groupadd/useradd, which the Dockerfiles run (it is Priority: required today; say so anyway).
    // ca-certificates only when apt itself needs TLS to reach the mirror.
    `--include=${['passwd', ...(https ? ['ca-certificates'] : [])].join(',')}`,
    `--hook-dir=${plan.mergedUsrHooks}`,
    // No device nodes in the image: the runtime provides /dev.
    '--skip=output/dev',
    '--aptopt=Acquire::Languages "none"',
    ...SLIM_DPKG_FILTERS.map((f) => `--dpkgopt=${f}`),
    ...copies.flatMap((k) => [
      `--customize-hook=mkdir -p "$1${dirname(k)}"`,
      `--customize-hook=upload ${k} ${k}`,
    ]),
    `--customize-hook=tar-in ${plan.usrLocalTar} /usr/local`,
    // The official image's `node` user, so that images written for it work here.
    '--customize-hook=chroot "$1" groupadd --gid 1000 node',
    '--customize-hook=chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
    '--customize-hook=rm -f "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log "$1"/var/log/apt/*.log "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old',
    plan.release.codename,
    plan.output,
    ...sourcesLines(plan.release.mirrors),
  ];
}

/**
 * The Containerfile that turns the rootfs tarball into an image (the build context holds rootfs.tar).
 * One addition to the official image's environment: node-gyp is pointed at the headers in
 * /usr/local/include/node. npm runs `node-gyp rebuild` for every package with a binding.gyp (such as
 * better-sqlite3, even when a prebuilt binary makes it compile nothing), and node-gyp otherwise
 * downloads the headers from nodejs.org, which a machine without registries may not reach. This is
 * node-gyp's own variable: `npm_config_nodedir` works too but npm 11 warns that it is not an npm setting.
 */
export function baseContainerfile(nodeVersion: string): string {
  return [
    'FROM scratch',
    'ADD rootfs.tar /',
    `ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION=${nodeVersion} \\`,
    '    npm_package_config_node_gyp_nodedir=/usr/local',
    'CMD ["node"]',
    '',
  ].join('\n');
}

// --- I/O ----------------------------------------------------------------------------------------------

const SCRIPT = fileURLToPath(import.meta.url);
const CACHE_DIR = join(REPO_ROOT, '.dev', 'cache', 'node-packages');
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';

/** This machine's apt sources files, as apt reads them. */
export function readAptSourceFiles(root = '/'): { path: string; text: string }[] {
  const files = [join(root, 'etc/apt/sources.list')];
  const dir = join(root, 'etc/apt/sources.list.d');
  if (existsSync(dir))
    files.push(
      ...readdirSync(dir)
        .sort()
        .map((f) => join(dir, f)),
    );
  return files.filter((f) => existsSync(f)).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

export interface BaseImage {
  ref: string;
  id: string;
  /** False when an image with the same stamp already existed. */
  built: boolean;
}

export interface EnsureBaseImageOptions {
  engine: EngineName;
  force?: boolean;
  npmVersion?: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

function requireTool(tool: string, why: string): void {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) {
    throw new Error(`base image: ${tool} is not installed (${why})`);
  }
}

/** Fetches `name@version` from the npm registry into the cache (npm checks its integrity). */
async function npmPack(name: string, version: string, quiet: boolean): Promise<string> {
  const file = join(CACHE_DIR, packFile(name, version));
  if (!existsSync(file)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    await run('npm', ['pack', `${name}@${version}`, '--pack-destination', CACHE_DIR, '--silent'], { quiet });
  }
  return file;
}

/** /usr/local as in the official image: bin/{node,npm,npx}, include/node, lib/node_modules/npm. */
async function stageUsrLocal(
  dir: string,
  nodeTgz: string,
  npmTgz: string,
  opensslArch: string,
): Promise<string> {
  const stage = join(dir, 'usr-local');
  const npmDir = join(stage, 'lib/node_modules/npm');
  mkdirSync(npmDir, { recursive: true });
  await run('tar', [
    '-xzf',
    nodeTgz,
    '-C',
    stage,
    '--strip-components=1',
    'package/bin/node',
    'package/include',
  ]);
  // The headers of the other 20 OpenSSL targets (~60 MB) can never be used by this binary.
  const archs = join(stage, 'include/node/openssl/archs');
  if (existsSync(archs)) {
    for (const a of readdirSync(archs)) if (a !== opensslArch) rmSync(join(archs, a), { recursive: true });
  }
  await run('tar', ['-xzf', npmTgz, '-C', npmDir, '--strip-components=1']);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(stage, 'bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(stage, 'bin/npx'));
  const tar = join(dir, 'usr-local.tar');
  await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', stage, '-cf', tar, '.']);
  return tar;
}

/** Builds the base image unless one with the same stamp exists; returns its reference and id. */
export async function ensureBaseImage(opts: EnsureBaseImageOptions): Promise<BaseImage> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const quiet = opts.quiet ?? false;
  const nodeVersion = nodeVersionFromBootstrap(
    readFileSync(join(REPO_ROOT, 'scripts', 'bootstrap', 'node.sh'), 'utf8'),
  );
  const release = debianRelease(parseAptSources(readAptSourceFiles()));
  const ref = baseImageRef(nodeVersion, release.codename);
  const stamp = baseImageStamp({ nodeVersion, release, script: readFileSync(SCRIPT, 'utf8') });
  const existing: ImageInfo | undefined = inspectImage(opts.engine, ref);
  if (existing && existing.labels[STAMP_LABEL] === stamp && !opts.force) {
    return { ref, id: existing.id, built: false };
  }

  requireTool('mmdebstrap', 'apt-get install mmdebstrap');
  if (!existsSync(MERGED_USR_HOOKS))
    throw new Error(`base image: ${MERGED_USR_HOOKS} is missing (mmdebstrap >= 1.0)`);
  const pkg = nodePackageFor(process.arch);
  log(
    `base image: ${ref} (Debian ${release.codename} from ${release.mirrors.length} apt sources, Node ${nodeVersion})`,
  );
  const nodeTgz = await npmPack(pkg.name, nodeVersion, quiet);
  const changelog = spawnSync('tar', ['-xzf', nodeTgz, '-O', 'package/CHANGELOG.md'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).stdout;
  const npmVersion = opts.npmVersion ?? bundledNpmVersion(changelog, nodeVersion);
  const npmTgz = await npmPack('npm', npmVersion, quiet);

  const dir = mkdtempSync(join(tmpdir(), 'webui-node-base-'));
  try {
    const usrLocalTar = await stageUsrLocal(dir, nodeTgz, npmTgz, pkg.opensslArch);
    const ctx = join(dir, 'context');
    mkdirSync(ctx);
    const output = join(ctx, 'rootfs.tar');
    log(`base image: mmdebstrap ${release.codename} + Node ${nodeVersion}, npm ${npmVersion}`);
    await run(
      'mmdebstrap',
      [...mmdebstrapArgs({ release, usrLocalTar, output, mergedUsrHooks: MERGED_USR_HOOKS })],
      {
        quiet,
      },
    );
    writeFileSync(join(ctx, 'Containerfile'), baseContainerfile(nodeVersion));
    const labels = {
      [STAMP_LABEL]: stamp,
      'org.opencontainers.image.title': basename(ref.split(':')[0] ?? ref),
      'org.opencontainers.image.description': `Debian ${release.codename} minbase with Node ${nodeVersion} and npm ${npmVersion} (scripts/base-image.ts)`,
    };
    const build = opts.engine === 'buildah' ? ['bud', '--format', 'docker'] : ['build'];
    await run(
      opts.engine,
      [
        ...build,
        ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        '--file',
        join(ctx, 'Containerfile'),
        '--tag',
        ref,
        ctx,
      ],
      { quiet },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const built = inspectImage(opts.engine, ref);
  if (!built) throw new Error(`base image: ${opts.engine} built ${ref} but cannot inspect it`);
  return { ref, id: built.id, built: true };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      engine: { type: 'string', default: 'buildah' },
      force: { type: 'boolean', default: false },
      'npm-version': { type: 'string' },
    },
  });
  if (!isEngineName(values.engine)) {
    console.error(`base-image: --engine must be docker, podman or buildah; got "${values.engine}"`);
    process.exit(2);
  }
  const t0 = Date.now();
  const base = await ensureBaseImage({
    engine: values.engine,
    force: values.force,
    ...(values['npm-version'] ? { npmVersion: values['npm-version'] } : {}),
  });
  console.log(
    `${base.ref} ${base.built ? 'built' : 'is up to date'} (${base.id.slice(0, 12)}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
