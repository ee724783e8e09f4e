// `make images` logic (scripts/build-images.ts, scripts/container-engine.ts): engine choice, the command
// lines per engine, what goes into an image's stamp, and reading the engines' inspect output.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  archiveArgs,
  buildArgs,
  caBundle,
  copySources,
  defaultNodeImage,
  devClusterBuilds,
  hostExtraCa,
  type ImageBuild,
  imageBuilds,
  imageStamp,
  isIgnored,
  parseDockerignore,
} from '../../scripts/build-images.ts';
import {
  chooseEngine,
  ENGINES,
  parseInspect,
  STAMP_LABEL,
  undoBuildahCniDir,
} from '../../scripts/container-engine.ts';
import { REPO_ROOT, readImageNames } from '../../scripts/image-names.ts';

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');
const [webui, operator] = imageBuilds(readImageNames()) as [ImageBuild, ImageBuild];
const dev = Object.fromEntries(devClusterBuilds().map((b) => [b.name, b]));
const opts = { version: '1.2.3', revision: 'abc', context: '.' };

describe('engine choice', () => {
  it('prefers Docker, then Podman, then Buildah, and takes the first that works', () => {
    expect(ENGINES).toEqual(['docker', 'podman', 'buildah']);
    const probed: string[] = [];
    const works = (ok: string[]) => (e: string) => {
      probed.push(e);
      return ok.includes(e);
    };
    expect(chooseEngine(ENGINES, works(['buildah']))).toBe('buildah');
    expect(probed).toEqual(['docker', 'podman', 'buildah']);
    expect(chooseEngine(ENGINES, works(['podman', 'buildah']))).toBe('podman');
    expect(chooseEngine(ENGINES, works([]))).toBeUndefined();
  });

  it('builds on the local base with Buildah and on node:24-slim with Docker or Podman', () => {
    expect(defaultNodeImage('buildah')).toBe('local');
    expect(defaultNodeImage('docker')).toBeUndefined();
    expect(defaultNodeImage('podman')).toBeUndefined();
  });
});

describe('build command lines', () => {
  const base = 'localhost/webui-node-base:24.21.0-bookworm';

  it('Buildah: cached layers, host network, the local base never pulled, Docker format, the CA mount', () => {
    const args = buildArgs('buildah', webui, { ...opts, nodeImage: base, stamp: 's1', buildEtc: '/tmp/etc' });
    expect(args).toEqual([
      'bud',
      '--format',
      'docker',
      '--layers',
      '--force-rm',
      '--network',
      'host',
      '--pull=never',
      '--volume',
      '/tmp/etc:/usr/local/etc:ro',
      '--file',
      'webui/Dockerfile',
      '--tag',
      webui.ref,
      '--build-arg',
      'VERSION=1.2.3',
      '--build-arg',
      'REVISION=abc',
      '--build-arg',
      `NODE_IMAGE=${base}`,
      '--label',
      `${STAMP_LABEL}=s1`,
      '.',
    ]);
  });

  it('Podman: Docker format (keeps HEALTHCHECK); pulls when the base is a registry image', () => {
    const args = buildArgs('podman', operator, { ...opts, nodeImage: 'node:24-slim' });
    expect(args.slice(0, 3)).toEqual(['build', '--format', 'docker']);
    expect(args).not.toContain('--pull=never');
    expect(args).toContain('NODE_IMAGE=node:24-slim');
  });

  it('passes VERSION/REVISION only to released images and NODE_IMAGE only to Node-based ones', () => {
    const fake = buildArgs('buildah', dev['fake-ollama']!, {
      ...opts,
      context: 'test/fake-ollama',
      nodeImage: base,
    });
    expect(fake).toContain(`NODE_IMAGE=${base}`);
    expect(fake.join(' ')).not.toMatch(/VERSION=|REVISION=/);
    expect(fake.at(-1)).toBe('test/fake-ollama');
    const pause = buildArgs('docker', dev.pause!, { ...opts, context: '/tmp/ctx', nodeImage: base });
    expect(pause).toEqual([
      'build',
      '--file',
      'test/node/images/pause.Dockerfile',
      '--tag',
      dev.pause!.ref,
      '/tmp/ctx',
    ]);
  });

  it('writes archives that containerd imports under the full reference', () => {
    expect(archiveArgs('buildah', webui.ref, '/o/webui.tar')).toEqual([
      'push',
      webui.ref,
      `oci-archive:/o/webui.tar:${webui.ref}`,
    ]);
    expect(archiveArgs('podman', 'localhost/a/b:dev', '/o/b.tar')).toEqual([
      'push',
      'localhost/a/b:dev',
      'oci-archive:/o/b.tar:localhost/a/b:dev',
    ]);
    expect(archiveArgs('docker', webui.ref, '/o/webui.tar')).toEqual([
      'save',
      '--output',
      '/o/webui.tar',
      webui.ref,
    ]);
  });
});

describe('stamps', () => {
  it('reads the context paths each Dockerfile copies (not those copied from a stage)', () => {
    expect(copySources(read('webui/Dockerfile'))).toEqual([
      'package.json',
      'package-lock.json',
      'webui',
      'scripts/node-bundle.ts',
    ]);
    expect(copySources(read('operator/Dockerfile'))).toEqual([
      'package.json',
      'package-lock.json',
      'operator',
      'webui/src/contract',
      'scripts/node-bundle.ts',
    ]);
    expect(copySources(read('test/node/images/coredns.Dockerfile'))).toEqual(['coredns']);
    expect(
      copySources('COPY --chown=0:0 \\\n  a.ts b.ts ./\nCOPY --from=build /x /y\nADD ./c/ /c/\n'),
    ).toEqual(['a.ts', 'b.ts', 'c']);
  });

  it('leaves out what .dockerignore leaves out (anchored names, ** globs, whole directories)', () => {
    const patterns = parseDockerignore(read('.dockerignore'));
    expect(patterns).toContain('node_modules');
    expect(isIgnored('webui/src/server/app.test.ts', patterns)).toBe(true);
    expect(isIgnored('webui/src/server/app.int.test.ts', patterns)).toBe(true);
    expect(isIgnored('webui/frontend-dist/index.html', patterns)).toBe(true);
    expect(isIgnored('node_modules/koa/package.json', patterns)).toBe(true);
    expect(isIgnored('webui/src/server/app.ts', patterns)).toBe(false);
    expect(isIgnored('webui/node_modules/x.js', ['node_modules'])).toBe(false);
  });

  it('changes with a copied file, its mode, the Dockerfile, the base image or the build arguments', () => {
    const files = [
      { path: 'a.ts', sha256: '1', mode: 0o100644 },
      { path: 'b.ts', sha256: '2', mode: 0o100644 },
    ];
    const inputs = { dockerfile: 'FROM x', files, baseId: 'base1', args: ['1.0.0'] };
    const stamp = imageStamp(inputs);
    expect(imageStamp({ ...inputs, files: [...files].reverse() })).toBe(stamp);
    expect(imageStamp({ ...inputs, files: [files[0]!, { ...files[1]!, sha256: '3' }] })).not.toBe(stamp);
    expect(imageStamp({ ...inputs, files: [files[0]!, { ...files[1]!, mode: 0o100755 }] })).not.toBe(stamp);
    expect(imageStamp({ ...inputs, dockerfile: 'FROM y' })).not.toBe(stamp);
    expect(imageStamp({ ...inputs, baseId: 'base2' })).not.toBe(stamp);
    expect(imageStamp({ ...inputs, args: ['1.0.1'] })).not.toBe(stamp);
  });
});

describe('the host CA for RUN steps', () => {
  it("uses NODE_EXTRA_CA_CERTS, else npm's cafile, else nothing", () => {
    expect(hostExtraCa({ NODE_EXTRA_CA_CERTS: '/a.pem' }, '/b.pem')).toBe('/a.pem');
    expect(hostExtraCa({}, '/b.pem')).toBe('/b.pem');
    expect(hostExtraCa({}, 'null')).toBeUndefined();
    expect(hostExtraCa({ NODE_EXTRA_CA_CERTS: '' }, undefined)).toBeUndefined();
  });

  it("keeps the public roots (npm's cafile replaces them) and adds the extra CA", () => {
    expect(caBundle(['ROOT1', 'ROOT2'], '\nEXTRA\n')).toBe('ROOT1\nROOT2\nEXTRA\n');
  });
});

describe('inspect output', () => {
  it('Buildah: id, labels and the uncompressed size from the stored manifest', () => {
    const json = JSON.stringify({
      FromImageID: 'abc123',
      Manifest: JSON.stringify({ layers: [{ size: 100 }, { size: 23 }] }),
      OCIv1: { config: { Labels: { a: '1' } } },
      Docker: { config: { Labels: { [STAMP_LABEL]: 's' } } },
    });
    expect(parseInspect('buildah', json)).toEqual({
      id: 'abc123',
      labels: { a: '1', [STAMP_LABEL]: 's' },
      size: 123,
    });
    expect(parseInspect('buildah', '{}')).toBeUndefined();
  });

  it('Docker and Podman: the first image of the array', () => {
    const json = JSON.stringify([{ Id: 'sha256:def', Size: 42, Config: { Labels: null } }]);
    expect(parseInspect('docker', json)).toEqual({ id: 'def', labels: {}, size: 42 });
    expect(parseInspect('podman', '[]')).toBeUndefined();
  });
});

describe('undoBuildahCniDir', () => {
  it("removes the /etc/cni/net.d that Buildah's commands leave, only if it was not there and holds only the lock", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cni-undo-'));
    try {
      const root = join(dir, 'cni');
      const undo = undoBuildahCniDir('buildah', root);
      mkdirSync(join(root, 'net.d'), { recursive: true });
      writeFileSync(join(root, 'net.d', 'cni.lock'), '');
      undo();
      expect(existsSync(root)).toBe(false);

      // Someone else's configuration stays, and so does a directory that was there before.
      const again = undoBuildahCniDir('buildah', root);
      mkdirSync(join(root, 'net.d'), { recursive: true });
      writeFileSync(join(root, 'net.d', '10-bridge.conflist'), '{}');
      again();
      expect(existsSync(join(root, 'net.d', '10-bridge.conflist'))).toBe(true);
      undoBuildahCniDir('buildah', root)();
      expect(existsSync(root)).toBe(true);
      expect(undoBuildahCniDir('docker', join(dir, 'other'))).toBeTypeOf('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
