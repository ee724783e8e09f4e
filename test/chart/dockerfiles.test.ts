// The Dockerfiles, checked statically so that every machine runs this, with or without a container engine:
// base image, non-root user, healthcheck and OCI labels, and that everything the entry points import at
// runtime (relative files and npm packages) is actually in the final image. Building them is `make images`
// (scripts/build-images.ts; its logic is tested in test/images/).
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UID as WEBUI_POD_UID } from '../../operator/src/render/backend.ts';
import {
  buildArgs,
  copySources,
  DEFAULT_NODE_IMAGE,
  DEV_IMAGE_REFS,
  devClusterBuilds,
  imageBuilds,
} from '../../scripts/build-images.ts';
import { REPO_ROOT, readImageNames } from '../../scripts/image-names.ts';

interface Instruction {
  op: string;
  args: string;
}

/** Stages of a Dockerfile, each a list of instructions (comments dropped, continuations joined). */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Instruction[][] } {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const ins = { op: op.toUpperCase(), args: rest.trim() };
    if (ins.op === 'FROM') stages.push([]);
    if (stages.length === 0 && ins.op === 'ARG') {
      const [k, v = ''] = ins.args.split('=');
      args[k ?? ''] = v;
      continue;
    }
    stages.at(-1)?.push(ins);
  }
  return { args, stages };
}

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  /** Subpath imports (`#contract`): aliases for files of this repository. */
  imports?: Record<string, string>;
};

/** Every file reachable by relative or `#` imports from `entry`, and every package it imports. */
function importGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (abs: string) => {
    if (files.has(abs)) return;
    if (!existsSync(abs)) throw new Error(`${relative(REPO_ROOT, abs)} is imported but does not exist`);
    files.add(abs);
    const src = readFileSync(abs, 'utf8');
    // Static imports and re-exports; `import type` is erased at runtime and needs nothing.
    const re = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
    const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (const m of [...src.matchAll(re), ...src.matchAll(dynamic)]) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.')) visit(resolve(dirname(abs), spec));
      else if (spec.startsWith('#')) {
        const target = pkg.imports?.[spec];
        if (target === undefined) throw new Error(`${spec} is not in the imports of package.json`);
        visit(join(REPO_ROOT, target));
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        const parts = spec.split('/');
        packages.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
      }
    }
  };
  visit(join(REPO_ROOT, entry));
  return { files: [...files].map((f) => relative(REPO_ROOT, f)).sort(), packages: [...packages].sort() };
}

/** Repository paths the final stage COPYs from the build context (not from another stage). */
function copiedFromContext(stage: Instruction[]): string[] {
  return stage
    .filter((i) => i.op === 'COPY' && !/--from=/.test(i.args))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

const images = [
  {
    name: 'webui',
    dockerfile: 'webui/Dockerfile',
    entry: 'webui/bin/webui.ts',
    sourcesFromBuildStage: ['webui/'],
  },
  {
    name: 'operator',
    dockerfile: 'operator/Dockerfile',
    entry: 'operator/bin/webui-operator.ts',
    // Bundled into dist/operator in the build stage (operator/Dockerfile specifics below).
    sourcesFromBuildStage: ['operator/', 'webui/src/contract/'],
  },
] as const;

for (const image of images) {
  describe(image.dockerfile, () => {
    const { args, stages } = parseDockerfile(read(image.dockerfile));
    const final = stages.at(-1) ?? [];
    const ops = (op: string) => final.filter((i) => i.op === op);

    it('builds every stage on node:24-slim', () => {
      expect(args.NODE_IMAGE).toBe('node:24-slim');
      // make images relies on this default when it builds with Docker or Podman.
      expect(DEFAULT_NODE_IMAGE).toBe(args.NODE_IMAGE);
      expect(stages.length).toBeGreaterThanOrEqual(2);
      for (const stage of stages) {
        const from = stage[0]?.args.split(/\s+/)[0];
        expect(from).toBe(`\${NODE_IMAGE}`);
      }
    });

    it('runs as a numeric non-root user', () => {
      const user = ops('USER').at(-1)?.args ?? '';
      const [uid] = user.split(':');
      expect(uid).toMatch(/^\d+$/);
      expect(Number(uid)).toBeGreaterThan(0);
      // The operator's WebUI pods and the chart's operator pods run as this uid.
      expect(Number(uid)).toBe(WEBUI_POD_UID);
    });

    it('has a healthcheck and the OCI labels', () => {
      expect(ops('HEALTHCHECK')).toHaveLength(1);
      expect(ops('HEALTHCHECK')[0]?.args).toMatch(/CMD \[/);
      const labels = ops('LABEL')
        .map((l) => l.args)
        .join(' ');
      for (const key of ['title', 'description', 'version', 'revision', 'source', 'licenses']) {
        expect(labels).toContain(`org.opencontainers.image.${key}=`);
      }
    });

    it('ships every file and package its entry point imports', () => {
      const graph = importGraph(image.entry);
      // Guards the import scanner itself: both entry points pull in a real program.
      expect(graph.files.length).toBeGreaterThan(10);
      expect(graph.packages).toContain(image.name === 'webui' ? 'koa' : '@kubernetes/client-node');
      const shipped = [...copiedFromContext(final), ...image.sourcesFromBuildStage];
      for (const file of graph.files) {
        expect(
          shipped.some((p) => file.startsWith(p)),
          `${file} (imported by ${image.entry}) is copied into the image`,
        ).toBe(true);
        expect(file, `${file} is not excluded by .dockerignore`).not.toMatch(/\.(int\.|browser\.)?test\.ts$/);
      }
      // The final image has production dependencies only.
      for (const name of graph.packages) {
        expect(pkg.dependencies[name], `${name} is a production dependency`).toBeDefined();
      }
    });
  });
}

describe('webui/Dockerfile specifics', () => {
  const { stages } = parseDockerfile(read('webui/Dockerfile'));
  const final = stages.at(-1) ?? [];
  it('builds the frontend in and keeps data on the /data volume', () => {
    expect(stages[0]?.some((i) => i.op === 'RUN' && i.args.includes('webui/scripts/build-frontend.ts'))).toBe(
      true,
    );
    expect(final.some((i) => i.op === 'VOLUME' && i.args.includes('/data'))).toBe(true);
    expect(final.some((i) => i.op === 'ENV' && /DATA_DIR=\/data/.test(i.args))).toBe(true);
  });
  it('has every file the frontend and server builds import in the build stage', () => {
    const shipped = copiedFromContext(stages[0] ?? []);
    expect(shipped).toContain('webui/');
    for (const entry of [
      'webui/scripts/build-frontend.ts',
      'webui/src/frontend/main.ts',
      'webui/scripts/build-server.ts',
    ]) {
      for (const file of importGraph(entry).files) {
        expect(
          shipped.some((p) => file.startsWith(p)),
          `${file} is in the build stage`,
        ).toBe(true);
      }
    }
  });

  it('puts `webui` on PATH, the command the operator runs', () => {
    expect(final.some((i) => i.op === 'RUN' && i.args.includes('/usr/local/bin/webui'))).toBe(true);
    expect(final.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["webui"]');
  });
});

describe('operator/Dockerfile specifics', () => {
  const { stages } = parseDockerfile(read('operator/Dockerfile'));
  const build = stages[0] ?? [];
  const final = stages.at(-1) ?? [];
  it('bundles the operator in the build stage from every file the entry and build script import', () => {
    expect(
      build.some((i) => i.op === 'RUN' && i.args.includes('node operator/scripts/build-operator.ts')),
    ).toBe(true);
    const shipped = copiedFromContext(build);
    for (const entry of ['operator/bin/webui-operator.ts', 'operator/scripts/build-operator.ts']) {
      for (const file of importGraph(entry).files) {
        expect(
          shipped.some((p) => file.startsWith(p)),
          `${file} is in the build stage`,
        ).toBe(true);
      }
    }
  });
  it('runs the bundle, not the TypeScript sources', () => {
    expect(final.some((i) => i.op === 'COPY' && i.args.includes('/app/dist/operator/'))).toBe(true);
    expect(copiedFromContext(final)).toEqual([]);
    const launcher = final.find((i) => i.op === 'RUN' && i.args.includes('/usr/local/bin/webui-operator'));
    expect(launcher?.args).toContain('exec node /app/dist/operator/webui-operator.js');
    expect(final.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["webui-operator"]');
  });
});

describe("test/fake-ollama/Dockerfile (the dev cluster's fake Ollama)", () => {
  const text = read('test/fake-ollama/Dockerfile');
  const { args, stages } = parseDockerfile(text);
  const final = stages.at(-1) ?? [];
  const ops = (op: string) => final.filter((i) => i.op === op);

  it('runs main.ts on the NODE_IMAGE base with nothing but its own files', () => {
    expect(args.NODE_IMAGE).toBe(DEFAULT_NODE_IMAGE);
    expect(stages).toHaveLength(1);
    expect(final[0]?.args).toBe(`\${NODE_IMAGE}`);
    const graph = importGraph('test/fake-ollama/main.ts');
    // Only node: built-ins: the image has no node_modules.
    expect(graph.packages).toEqual([]);
    const copied = copySources(text).map((f) => `test/fake-ollama/${f}`);
    expect(copied.sort()).toEqual(graph.files);
    expect(ops('ENTRYPOINT')[0]?.args).toBe('["node", "/app/main.ts"]');
    expect(final.some((i) => i.op === 'WORKDIR' && i.args === '/app')).toBe(true);
  });

  it('is non-root and listens on all interfaces on the port it exposes', () => {
    const [uid] = (ops('USER').at(-1)?.args ?? '').split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    const cmd = JSON.parse(ops('CMD').at(-1)?.args ?? '[]') as string[];
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0');
    const port = cmd[cmd.indexOf('--port') + 1];
    expect(ops('EXPOSE')[0]?.args).toBe(port);
    expect(ops('HEALTHCHECK')[0]?.args).toContain(`127.0.0.1:${port}/`);
    // Every flag it passes is one main.ts declares.
    const main = read('test/fake-ollama/main.ts');
    for (const flag of cmd.filter((a) => a.startsWith('--'))) {
      const name = flag.slice(2);
      expect(main, `${flag} is a flag of main.ts`).toMatch(new RegExp(`['"]?${name}['"]?: \\{ type:`));
    }
  });
});

describe("the dev cluster's scratch images (CoreDNS, pause)", () => {
  for (const build of devClusterBuilds().filter((b) => b.binary)) {
    it(`${build.dockerfile} is one static binary, non-root, run directly`, () => {
      const { stages } = parseDockerfile(read(build.dockerfile));
      expect(stages).toHaveLength(1);
      const final = stages[0] ?? [];
      expect(final[0]?.args).toBe('scratch');
      expect(final.find((i) => i.op === 'COPY')?.args).toBe(`${build.binary} /${build.binary}`);
      expect(final.find((i) => i.op === 'ENTRYPOINT')?.args).toBe(`["/${build.binary}"]`);
      const [uid, gid] = (final.find((i) => i.op === 'USER')?.args ?? '').split(':');
      expect(Number(uid)).toBeGreaterThan(0);
      expect(gid).toBe(uid);
    });
  }
});

// Users and groups that node:24-slim already has: Debian's base system (base-passwd 3.6's passwd.master and
// group.master, plus apt's _apt) and the Node image's `node`. `groupadd` of one of these fails there (as
// `operator`, gid 37, once did in operator/Dockerfile).
const TAKEN_NAMES = new Set(
  '_apt adm audio backup bin cdrom daemon dialout dip disk fax floppy games irc kmem list lp mail man news nobody nogroup operator plugdev proxy root sasl shadow src staff sudo sync sys tape tty users utmp uucp video voice www-data node'.split(
    ' ',
  ),
);

describe('users the Dockerfiles create', () => {
  for (const dockerfile of ['webui/Dockerfile', 'operator/Dockerfile']) {
    it(`${dockerfile}: groupadd/useradd names are not taken on node:24-slim`, () => {
      const names = [
        ...read(dockerfile).matchAll(/\b(?:groupadd|useradd)\b[^\n&]*?\s([a-z][a-z0-9-]*)\s*(?:\\|&&|$)/gm),
      ].map((m) => m[1] ?? '');
      expect(names.length).toBe(2);
      for (const name of names) expect(TAKEN_NAMES.has(name), `${name} is free on node:24-slim`).toBe(false);
    });
  }
});

describe('make images', () => {
  it('tags both images with the names and version from package.json', () => {
    const names = readImageNames();
    const builds = imageBuilds(names);
    expect(builds.map((b) => b.ref)).toEqual([
      `${names.webui.repository}:${names.version}`,
      `${names.operator.repository}:${names.version}`,
    ]);
    expect(
      buildArgs('docker', builds[0]!, { version: names.version, revision: 'abc', context: '.' }),
    ).toEqual([
      'build',
      '--file',
      'webui/Dockerfile',
      '--tag',
      builds[0]!.ref,
      '--build-arg',
      `VERSION=${names.version}`,
      '--build-arg',
      'REVISION=abc',
      '.',
    ]);
  });

  it('names the dev cluster images as the harness pins them, apart from the released ones', () => {
    expect(devClusterBuilds().map((b) => b.ref)).toEqual(Object.values(DEV_IMAGE_REFS));
    for (const ref of Object.values(DEV_IMAGE_REFS))
      expect(ref).toMatch(/^localhost\/webui-operator\/[a-z-]+:dev$/);
  });

  it('.dockerignore keeps host build outputs and secrets-prone dirs out of the context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['node_modules', '.git', 'bin', 'data', 'webui/frontend-dist'])
      expect(ignored).toContain(p);
  });
});
