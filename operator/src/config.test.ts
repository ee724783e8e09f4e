import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagedDefaultImage, parseSettings, SettingError } from './config.ts';

const defaults = { defaultImage: 'ghcr.io/webui-operator/webui:0.1.0' };

describe('parseSettings', () => {
  it('defaults to all namespaces, the packaged image, info logs and port 8081', () => {
    expect(parseSettings([], {}, defaults)).toMatchObject({
      namespaces: [],
      defaultImage: defaults.defaultImage,
      logLevel: 'info',
      httpPort: 8081,
      leaderElection: false,
      leaderElectionId: 'webui-operator',
    });
  });

  it('reads env, and flags win over env', () => {
    const s = parseSettings(
      ['--namespaces', 'a, b', '--log-level=debug'],
      {
        WATCH_NAMESPACES: 'x',
        LOG_LEVEL: 'warn',
        DEFAULT_WEBUI_IMAGE: 'img:1',
        LEADER_ELECTION: 'true',
        POD_NAMESPACE: 'ops',
      },
      defaults,
    );
    expect(s).toMatchObject({
      namespaces: ['a', 'b'],
      logLevel: 'debug',
      defaultImage: 'img:1',
      leaderElection: true,
      leaderElectionNamespace: 'ops',
    });
  });

  it("limits API requests like controller-runtime's client by default: 20 a second, bursts of 30", () => {
    expect(parseSettings([], {}, defaults)).toMatchObject({ kubeApiQps: 20, kubeApiBurst: 30 });
    expect(
      parseSettings(['--kube-api-qps', '50'], { KUBE_API_QPS: '5', KUBE_API_BURST: '80' }, defaults),
    ).toMatchObject({ kubeApiQps: 50, kubeApiBurst: 80 });
    expect(() => parseSettings([], { KUBE_API_QPS: '0' }, defaults)).toThrow(
      '--kube-api-qps (KUBE_API_QPS): expected a whole number from 1 to 10000, got "0"',
    );
  });

  it('reads the WebUI seed as [namespace/]name, the namespace defaulting to POD_NAMESPACE', () => {
    expect(parseSettings([], {}, defaults)).not.toHaveProperty('webuiSeed');
    expect(parseSettings([], { WEBUI_SEED_CONFIGMAP: ' ' }, defaults)).not.toHaveProperty('webuiSeed');
    expect(
      parseSettings(
        [],
        { WEBUI_SEED_CONFIGMAP: 'wo-webui-operator-webui-chat', POD_NAMESPACE: 'ops' },
        defaults,
      ),
    ).toMatchObject({ webuiSeed: { namespace: 'ops', name: 'wo-webui-operator-webui-chat' } });
    expect(
      parseSettings(
        ['--webui-seed-configmap', 'team-a/seed'],
        { WATCH_NAMESPACES: 'team-a,team-b' },
        defaults,
      ),
    ).toMatchObject({ webuiSeed: { namespace: 'team-a', name: 'seed' } });
  });

  it('refuses a seed it cannot place or whose WebUI it would not watch, in one line', () => {
    const refuse = (env: Record<string, string>) => () => parseSettings([], env, defaults);
    expect(refuse({ WEBUI_SEED_CONFIGMAP: 'seed' })).toThrow(
      /^--webui-seed-configmap \(WEBUI_SEED_CONFIGMAP\): "seed" names no namespace and POD_NAMESPACE is not set; give namespace\/name$/,
    );
    expect(refuse({ WEBUI_SEED_CONFIGMAP: 'a/b/c' })).toThrow(/expected a ConfigMap name or namespace\/name/);
    expect(refuse({ WEBUI_SEED_CONFIGMAP: 'Seed', POD_NAMESPACE: 'ops' })).toThrow(/got "Seed"/);
    expect(refuse({ WEBUI_SEED_CONFIGMAP: 'Ops/seed' })).toThrow(/"Ops" is not a namespace name/);
    expect(refuse({ WEBUI_SEED_CONFIGMAP: 'seed', POD_NAMESPACE: 'ops', WATCH_NAMESPACES: 'a,b' })).toThrow(
      /the seed's namespace "ops" is not watched \(--namespaces \(WATCH_NAMESPACES\) is a,b\)/,
    );
    for (const env of [
      { WEBUI_SEED_CONFIGMAP: 'a/b/c' },
      { WEBUI_SEED_CONFIGMAP: 'x', POD_NAMESPACE: 'o', WATCH_NAMESPACES: 'a' },
    ]) {
      try {
        parseSettings([], env, defaults);
      } catch (e) {
        expect(e).toBeInstanceOf(SettingError);
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });

  it('refuses bad values with one line naming the flag and env variable', () => {
    expect(() => parseSettings(['--namespaces', 'Team_A'], {}, defaults)).toThrow(
      /^--namespaces \(WATCH_NAMESPACES\): "Team_A" is not a namespace name/,
    );
    expect(() => parseSettings([], { HTTP_PORT: '99999' }, defaults)).toThrow(SettingError);
    expect(() => parseSettings([], { LEADER_ELECTION: 'maybe' }, defaults)).toThrow(/LEADER_ELECTION/);
    expect(() => parseSettings(['--nope'], {}, defaults)).toThrow(/--help/);
  });
});

describe('packagedDefaultImage', () => {
  it('is <images.registry>/<images.webui>:<version> from package.json', () => {
    const root = join(import.meta.dirname, '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string;
      images: { registry: string; webui: string };
    };
    expect(packagedDefaultImage(root)).toBe(`${pkg.images.registry}/${pkg.images.webui}:${pkg.version}`);
    const dir = mkdtempSync(join(tmpdir(), 'webui-op-pkg-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ version: '9.8.7', images: { registry: 'registry.example/team', webui: 'chat' } }),
      );
      expect(packagedDefaultImage(dir)).toBe('registry.example/team/chat:9.8.7');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '9.8.7' }));
      expect(() => packagedDefaultImage(dir)).toThrow(/images\.registry/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
