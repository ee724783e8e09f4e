// What the end-to-end suite does with a cluster, as a cluster admin would: kubectl, helm, waiting for
// conditions and rollouts, port-forwards, and the WebUI's HTTP API through them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_BIN, REPO_ROOT } from '../harness/binaries.ts';
import { sleep } from '../harness/probe.ts';

export { REPO_ROOT };

export interface Kube {
  kubeconfig: string;
  kubectl(args: string[], input?: string): string;
  /** kubectl … -o json, parsed. */
  json<T = KubeObject>(args: string[]): T;
  helm(args: string[], input?: string): string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
  };
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[]; [key: string]: unknown };
}

function runTool(file: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(file, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    input,
    env: env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  if (r.status !== 0) {
    throw new Error(
      `${file.split('/').pop()} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`,
    );
  }
  return r.stdout;
}

export function kubeFor(kubeconfig: string): Kube {
  // Helm keeps its caches and repository config out of the user's home.
  const helmHome = mkdtempSync(join(tmpdir(), 'webui-e2e-helm-'));
  const helmEnv = {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
  const kubectl = (args: string[], input?: string) =>
    runTool(join(REPO_BIN, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], input);
  return {
    kubeconfig,
    kubectl,
    json: <T>(args: string[]) => JSON.parse(kubectl([...args, '-o', 'json'])) as T,
    helm: (args, input) =>
      runTool(join(REPO_BIN, 'helm'), ['--kubeconfig', kubeconfig, ...args], input, helmEnv),
  };
}

/** Polls until check() returns a value (not undefined/false); fails with the last error and what() after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  {
    timeoutMs = 180_000,
    intervalMs = 500,
    explain,
  }: { timeoutMs?: number; intervalMs?: number; explain?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      let extra = '';
      try {
        extra = explain?.() ?? '';
      } catch (err) {
        extra = String(err);
      }
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? ` (last error: ${last})` : ''}${extra ? `\n${extra}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

export const RELEASE = 'webui-operator';
export const CHART = join(REPO_ROOT, 'charts', 'webui-operator');

/** `helm install` of the chart as a cluster admin runs it (waits for the operator to be available). */
export function installChart(kube: Kube, ns: string, args: string[] = []): void {
  kube.helm([
    'install',
    RELEASE,
    CHART,
    '--namespace',
    ns,
    '--create-namespace',
    ...args,
    '--wait',
    '--timeout',
    '5m',
  ]);
}

/** The fake Ollama pod and Service (FAKE_OLLAMA_MANIFEST), rolled out. */
export function deployFakeOllama(kube: Kube): void {
  kube.kubectl(['apply', '--server-side', '-f', '-'], FAKE_OLLAMA_MANIFEST);
  kube.kubectl(['-n', 'ollama', 'rollout', 'status', 'deployment/ollama', '--timeout=300s']);
}

/** `kubectl patch --type=merge` of a WebUI's spec, as an admin edits it. */
export function patchWebUi(kube: Kube, ns: string, name: string, spec: Record<string, unknown>): void {
  kube.kubectl(['-n', ns, 'patch', `webui/${name}`, '--type=merge', '-p', JSON.stringify({ spec })]);
}

export const condition = (o: KubeObject, type: string) => o.status?.conditions?.find((c) => c.type === type);

export interface ReplicaSetInfo {
  name: string;
  revision: string;
  replicas: number;
}

/** The ReplicaSets of a Deployment (a rollout adds one), oldest revision first. */
export function replicaSets(kube: Kube, ns: string, deployment: string): ReplicaSetInfo[] {
  const list = kube.json<{ items: (KubeObject & { status?: { replicas?: number } })[] }>([
    '-n',
    ns,
    'get',
    'replicasets',
  ]);
  return list.items
    .filter((rs) =>
      rs.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === deployment),
    )
    .map((rs) => ({
      name: rs.metadata.name,
      revision: rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '',
      replicas: Number(rs.status?.replicas ?? 0),
    }))
    .sort((a, b) => Number(a.revision) - Number(b.revision));
}

/** `kubectl port-forward` on a free local port; resolves with its base URL once it listens. */
export function portForward(
  kube: Kube,
  ns: string,
  target: string,
  remotePort: number,
): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn(
    join(REPO_BIN, 'kubectl'),
    [
      '--kubeconfig',
      kube.kubeconfig,
      '-n',
      ns,
      'port-forward',
      target,
      `0:${remotePort}`,
      '--address',
      '127.0.0.1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += String(d);
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`kubectl port-forward ${target} exited ${code}: ${out}`)));
  });
}

/** The WebUI's HTTP API, as its frontend serves it. */
export class WebUiClient {
  readonly baseUrl: string;
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; json: unknown; text: string }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  async signup(name: string, email: string, password: string) {
    return this.call('POST', '/api/v1/auths/signup', { name, email, password });
  }

  async signin(email: string, password: string): Promise<string> {
    const r = await this.call('POST', '/api/v1/auths/signin', { email, password });
    if (r.status !== 200) throw new Error(`sign-in as ${email}: ${r.status} ${r.text}`);
    return (r.json as { token: string }).token;
  }

  /** A streamed chat: the NDJSON lines as they arrived, and when the first one came. */
  async chatStream(
    token: string,
    model: string,
    content: string,
  ): Promise<{ status: number; lines: Record<string, unknown>[]; firstLineMs: number }> {
    const started = Date.now();
    const res = await fetch(`${this.baseUrl}/ollama/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }], stream: true }),
      signal: AbortSignal.timeout(120_000),
    });
    let firstLineMs = -1;
    let buffered = '';
    const lines: Record<string, unknown>[] = [];
    const decoder = new TextDecoder();
    for await (const chunk of res.body ?? []) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) {
          if (firstLineMs < 0) firstLineMs = Date.now() - started;
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        nl = buffered.indexOf('\n');
      }
    }
    if (buffered.trim()) lines.push(JSON.parse(buffered) as Record<string, unknown>);
    return { status: res.status, lines, firstLineMs };
  }
}

/**
 * The fake Ollama as a pod behind the Service `ollama` in namespace `ollama`
 * (examples/dev-cluster-fake-ollama.yaml): WebUIs reach it by DNS name, exactly as
 * examples/webui-basic.yaml points at a real Ollama.
 */
export const FAKE_OLLAMA_MANIFEST = readFileSync(
  join(REPO_ROOT, 'examples', 'dev-cluster-fake-ollama.yaml'),
  'utf8',
);
