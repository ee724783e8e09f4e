/**
 * End-to-end: the real images in a real cluster. Builds the webui and operator images (plus a tiny
 * fake-Ollama image), starts k3s with @testcontainers/k3s, imports the images into its containerd,
 * `helm install`s the chart with `webui.create=true`, waits for the WebUI's Ready condition, then signs
 * up the admin and streams a chat through the frontend pod -> backend pod -> fake Ollama pod.
 *
 * Needs a Docker or Podman engine. Without one every test is SKIPPED (never passed) with a message
 * saying so; set E2E_K3S_REQUIRED=1 (in CI that has Docker) to turn the missing engine into a failure.
 * Run: make e2e-k3s   (K3S_IMAGE overrides the k3s image).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedK3sContainer } from '@testcontainers/k3s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEngine, imageBuilds } from '../../scripts/build-images.ts';
import { REPO_ROOT, readImageNames } from '../../scripts/image-names.ts';

const K3S_IMAGE = process.env.K3S_IMAGE ?? 'rancher/k3s:v1.32.3-k3s1';
const HELM = join(REPO_ROOT, 'bin', 'helm');
const KUBECTL = join(REPO_ROOT, 'bin', 'kubectl');
const NS = 'webui-e2e';
const FAKE_OLLAMA_IMAGE = 'localhost/webui-e2e/fake-ollama:e2e';
const SKIP_MESSAGE = 'no Docker/Podman engine: the k3s end-to-end suite did not run';

const engine = findEngine(['docker', 'podman']);
if (!engine) {
  if (process.env.E2E_K3S_REQUIRED === '1') {
    throw new Error(`${SKIP_MESSAGE} (E2E_K3S_REQUIRED=1 makes this a failure)`);
  }
  console.warn(`SKIPPED: ${SKIP_MESSAGE}. Install and start Docker or Podman to run it (docs/install.md).`);
}

/** Runs a command to completion; throws with its output when it fails. */
function must(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const r = spawnSync(file, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/** The fake Ollama, on the webui image (it already has Node 24), listening on all interfaces. */
function buildFakeOllamaImage(engineBin: string, webuiRef: string, dir: string): void {
  const ctx = join(dir, 'fake-ollama-context');
  mkdirSync(ctx, { recursive: true });
  for (const f of ['fake-ollama.ts', 'main.ts']) {
    copyFileSync(join(REPO_ROOT, 'test', 'fake-ollama', f), join(ctx, f));
  }
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      `FROM ${webuiRef}`,
      'COPY --chown=root:root fake-ollama.ts main.ts /app/test/fake-ollama/',
      'ENTRYPOINT ["node", "/app/test/fake-ollama/main.ts", "--host", "0.0.0.0", "--port", "11434", "--no-record"]',
      'CMD []',
      '',
    ].join('\n'),
  );
  must(engineBin, ['build', '--tag', FAKE_OLLAMA_IMAGE, ctx]);
}

const fakeOllamaManifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: fake-ollama, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: fake-ollama}}
  template:
    metadata: {labels: {app: fake-ollama}}
    spec:
      containers:
        - name: fake-ollama
          image: ${FAKE_OLLAMA_IMAGE}
          imagePullPolicy: Never
          ports: [{containerPort: 11434}]
          readinessProbe: {httpGet: {path: /api/version, port: 11434}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: fake-ollama, namespace: ${NS}}
spec:
  selector: {app: fake-ollama}
  ports: [{port: 11434, targetPort: 11434}]
`;

/** `kubectl port-forward` to a Service on a free local port; resolves with the local base URL. */
function portForward(
  kubectl: (args: string[]) => string[],
  target: string,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    KUBECTL,
    kubectl(['-n', NS, 'port-forward', target, '0:80', '--address', '127.0.0.1']),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += String(d);
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, child });
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += String(d);
    });
    child.on('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
  });
}

describe.skipIf(!engine)('k3s end-to-end: images, chart, chat through real pods', () => {
  let dir = '';
  let k3s: StartedK3sContainer | undefined;
  let forward: ChildProcess | undefined;
  let frontendUrl = '';
  let kubeconfigPath = '';
  const kubectlArgs = (args: string[]) => ['--kubeconfig', kubeconfigPath, ...args];

  beforeAll(async () => {
    if (!engine) return;
    dir = mkdtempSync(join(tmpdir(), 'webui-e2e-k3s-'));
    const names = readImageNames();
    const builds = imageBuilds(names);

    // 1. The images, exactly as `make images` builds them, plus the fake Ollama on top of webui.
    must('node', ['scripts/build-images.ts', '--engine', engine]);
    const webuiRef = builds.find((b) => b.name === 'webui')?.ref ?? '';
    buildFakeOllamaImage(engine, webuiRef, dir);

    // 2. k3s, with the images imported into its containerd (no registry involved).
    const { K3sContainer } = await import('@testcontainers/k3s');
    k3s = await new K3sContainer(K3S_IMAGE).start();
    kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, k3s.getKubeConfig(), { mode: 0o600 });
    for (const ref of [...builds.map((b) => b.ref), FAKE_OLLAMA_IMAGE]) {
      const tar = join(dir, `${ref.replace(/[^A-Za-z0-9.-]/g, '_')}.tar`);
      must(engine, ['save', '--output', tar, ref]);
      await k3s.copyFilesToContainer([{ source: tar, target: '/tmp/image.tar' }]);
      const r = await k3s.exec(['ctr', '--namespace', 'k8s.io', 'images', 'import', '/tmp/image.tar']);
      if (r.exitCode !== 0) throw new Error(`ctr images import ${ref} failed: ${r.output}`);
      rmSync(tar, { force: true });
    }

    // 3. The fake Ollama in the cluster, then the chart with a WebUI pointed at it.
    must(KUBECTL, kubectlArgs(['create', 'namespace', NS]));
    const fakePath = join(dir, 'fake-ollama.yaml');
    writeFileSync(fakePath, fakeOllamaManifest);
    must(KUBECTL, kubectlArgs(['apply', '-f', fakePath]));
    must(KUBECTL, kubectlArgs(['-n', NS, 'rollout', 'status', 'deployment/fake-ollama', '--timeout=180s']));

    const helmEnv = {
      ...process.env,
      HELM_CACHE_HOME: join(dir, 'helm-cache'),
      HELM_CONFIG_HOME: join(dir, 'helm-config'),
      HELM_DATA_HOME: join(dir, 'helm-data'),
    };
    must(
      HELM,
      [
        'install',
        'e2e',
        join(REPO_ROOT, 'charts', 'webui-operator'),
        '--kubeconfig',
        kubeconfigPath,
        '--namespace',
        NS,
        '--set',
        'webui.create=true',
        '--set',
        'webui.name=webui',
        '--set',
        `webui.spec.ollama.baseUrl=http://fake-ollama.${NS}.svc:11434`,
        '--set',
        'webui.spec.auth.enableSignup=true',
        '--wait',
        '--timeout',
        '5m',
      ],
      { env: helmEnv },
    );
    must(KUBECTL, kubectlArgs(['-n', NS, 'wait', '--for=condition=Ready', 'webui/webui', '--timeout=300s']));

    const pf = await portForward(kubectlArgs, 'service/webui-frontend');
    forward = pf.child;
    frontendUrl = pf.url;
  });

  afterAll(async () => {
    forward?.kill('SIGTERM');
    await k3s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the WebUI resource reports Ready and OllamaReachable', () => {
    const out = must(KUBECTL, kubectlArgs(['-n', NS, 'get', 'webui/webui', '-o', 'json']));
    const status = (JSON.parse(out) as { status?: { conditions?: { type: string; status: string }[] } })
      .status;
    const byType = new Map((status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(byType.get('Ready')).toBe('True');
    expect(byType.get('OllamaReachable')).toBe('True');
  });

  it('signs up the admin and streams a chat through the frontend and backend pods', async () => {
    const signup = await fetch(`${frontendUrl}/api/v1/auths/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Admin', email: 'admin@example.com', password: 'e2e-k3s-Passw0rd!' }),
    });
    expect(signup.status).toBe(200);
    const { token, role } = (await signup.json()) as { token: string; role: string };
    expect(role).toBe('admin');

    const chat = await fetch(`${frontendUrl}/ollama/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        model: 'llama3.2:latest',
        messages: [{ role: 'user', content: 'Say hello from k3s' }],
        stream: true,
      }),
    });
    expect(chat.status).toBe(200);
    const lines = (await chat.text())
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { message?: { content?: string }; done?: boolean });
    const tokens = lines.filter((l) => !l.done && (l.message?.content ?? '') !== '');
    // Several streamed chunks, then the final `done` line: the answer really streamed through the pods.
    expect(tokens.length).toBeGreaterThan(1);
    expect(lines.at(-1)?.done).toBe(true);
  });
});

if (!engine) {
  describe(`k3s end-to-end (SKIPPED: ${SKIP_MESSAGE})`, () => {
    it.skip(SKIP_MESSAGE, () => {});
  });
}
