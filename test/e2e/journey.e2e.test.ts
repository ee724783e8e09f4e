/**
 * End-to-end, on a real one-node cluster (test/harness/cluster.ts) with the images built here from the
 * project's Dockerfiles: what a cluster admin does, against real pods, in order.
 *
 * The fake Ollama runs as a pod behind the Service `ollama` in namespace `ollama`, so the WebUIs point
 * at it by Service DNS name exactly like examples/webui-basic.yaml points at a real Ollama. The chart
 * is installed with leader election on, so a verb missing from its RBAC fails here.
 *
 * Needs root, the node's Debian packages and binaries, and the images: `make test-e2e` prepares all of
 * them. A missing prerequisite fails the suite; nothing is skipped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Ingress } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { launchChromium } from '../browser/harness.ts';
import { type Cluster, startCluster } from '../harness/cluster.ts';
import { devImages } from '../harness/dev-images.ts';
import { routesFromIngress, startNginx } from '../harness/nginx.ts';
import { type HostSnapshot, hostSnapshot } from '../harness/node/snapshot.ts';
import { freePort } from '../postgres/postgres.ts';
import {
  CHART,
  condition,
  deployFakeOllama,
  installChart,
  type Kube,
  type KubeObject,
  kubeFor,
  patchWebUi,
  portForward,
  RELEASE,
  REPO_ROOT,
  replicaSets,
  WebUiClient,
  waitFor,
} from './kube.ts';

const NS = 'webui';
const EXAMPLE = join(REPO_ROOT, 'examples', 'webui-basic.yaml');
const ADMIN = { name: 'Admin', email: 'admin@example.com', password: 'e2e-Adm1n-passw0rd' };
const figures: Record<string, string> = {};

let cluster: Cluster;
let kube: Kube;
let before: HostSnapshot;

const webui = (name = 'chat') => kube.json<KubeObject>(['-n', NS, 'get', `webui/${name}`]);
const readyWebUi = (name = 'chat', timeoutMs = 300_000) =>
  waitFor(`WebUI ${name} Ready=True`, () => condition(webui(name), 'Ready')?.status === 'True', {
    timeoutMs,
    explain: () =>
      kube.kubectl(['-n', NS, 'describe', `webui/${name}`]) +
      kube.kubectl(['-n', NS, 'get', 'pods,pvc', '-o', 'wide']),
  });
const podsOf = (component: 'backend' | 'frontend', name = 'chat') =>
  kube.json<{ items: KubeObject[] }>([
    '-n',
    NS,
    'get',
    'pods',
    '-l',
    `app.kubernetes.io/instance=${name},app.kubernetes.io/component=${component}`,
  ]).items;
const rolledOut = (deployment: string, ns = NS) =>
  kube.kubectl(['-n', ns, 'rollout', 'status', `deployment/${deployment}`, '--timeout=300s']);

async function frontendClient(name = 'chat'): Promise<{ client: WebUiClient; stop(): void }> {
  const pf = await portForward(kube, NS, `service/${name}-frontend`, 80);
  return { client: new WebUiClient(pf.url), stop: pf.stop };
}

beforeAll(async () => {
  before = hostSnapshot(process.env.WEBUI_DEV_NODE_ROOT ?? '/var/lib/webui-dev-node', 'webui-dev-node');
  const images = await devImages();
  cluster = await startCluster({
    images: images.map((i) => i.archive),
    log: (l) => console.log(`cluster: ${l}`),
  });
  figures['cluster start to Ready node with DNS'] = `${(cluster.startupMs / 1000).toFixed(1)} s`;
  kube = kubeFor(cluster.cp.kubeconfigPath);
  deployFakeOllama(kube);
  installChart(kube, NS);
});

afterAll(async () => {
  console.log(
    `figures:\n${Object.entries(figures)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n')}`,
  );
  await cluster?.stop();
  // The node put the machine back as it found it: no processes, interfaces, chains, mounts or sysctls.
  const after = hostSnapshot(cluster?.root ?? '/var/lib/webui-dev-node', 'webui-dev-node');
  expect(after.nodeProcesses).toEqual([]);
  expect(after).toEqual(before);
});

describe('a cluster admin on a real node', () => {
  it('helm install runs the operator as a pod under the chart ServiceAccount, holding the leader Lease', async () => {
    const pods = kube.json<{ items: (KubeObject & { spec: { serviceAccountName: string } })[] }>([
      '-n',
      NS,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/name=webui-operator',
    ]).items;
    expect(pods).toHaveLength(1);
    const pod = pods[0]!;
    expect(pod.spec.serviceAccountName).toBe(RELEASE);
    const lease = await waitFor('the leader Lease', () => {
      const l = kube.json<{ spec: { holderIdentity?: string } }>(['-n', NS, 'get', `lease/${RELEASE}`]);
      return l.spec.holderIdentity ? l : undefined;
    });
    // The identity is the pod name plus a per-process suffix (client-go's convention).
    expect(lease.spec.holderIdentity?.startsWith(pod.metadata.name)).toBe(true);
  });

  it('a WebUI like examples/webui-basic.yaml becomes Ready from real probes', async () => {
    const started = Date.now();
    kube.kubectl(['-n', NS, 'apply', '-f', EXAMPLE]);
    await readyWebUi();
    figures['kubectl apply to WebUI Ready'] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const w = webui();
    expect(condition(w, 'OllamaReachable')).toMatchObject({ status: 'True' });
    const pvc = kube.json<KubeObject & { status: { phase: string } }>(['-n', NS, 'get', 'pvc/chat-data']);
    expect(pvc.status.phase).toBe('Bound');
  });

  it('its pods run as uid 10001 on a read-only root filesystem, writing only to the data volume', () => {
    const exec = (script: string) =>
      kube.kubectl(['-n', NS, 'exec', 'deploy/chat-backend', '--', 'node', '-e', script]).trim();
    expect(exec('console.log(process.getuid(), process.getgid())')).toBe('10001 10001');
    expect(
      exec(
        "try { require('fs').writeFileSync('/app/x', '') ; console.log('writable') } catch (e) { console.log(e.code) }",
      ),
    ).toBe('EROFS');
    expect(
      exec(
        "require('fs').writeFileSync('/data/.e2e', 'ok'); console.log(require('fs').readFileSync('/data/.e2e', 'utf8'))",
      ),
    ).toBe('ok');
  });

  let adminToken = '';
  let chatId = '';

  it('signs up the first admin through the frontend ClusterIP (kube-proxy), after which sign-up is closed', async () => {
    const svc = kube.json<{ spec: { clusterIP: string } }>(['-n', NS, 'get', 'service/chat-frontend']);
    // In the Service range 198.18.128.0/17.
    expect(svc.spec.clusterIP).toMatch(/^198\.18\.(1[2-9]\d|2\d\d)\.\d+$/);
    const viaClusterIp = new WebUiClient(`http://${svc.spec.clusterIP}`);
    const first = await viaClusterIp.signup(ADMIN.name, ADMIN.email, ADMIN.password);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ role: 'admin' });
    adminToken = (first.json as { token: string }).token;
    const second = await viaClusterIp.signup('Eve', 'eve@example.com', 'e2e-Eve-passw0rd');
    expect(second.status).toBe(403);
  });

  it('streams a chat through kubectl port-forward: frontend pod, backend pod, Ollama Service by DNS', async () => {
    const started = Date.now();
    const { client, stop } = await frontendClient();
    try {
      const r = await client.chatStream(adminToken, 'llama3.2:latest', 'Hello from a real pod');
      expect(r.status).toBe(200);
      const tokens = r.lines.filter(
        (l) => !l.done && ((l.message as { content?: string })?.content ?? '') !== '',
      );
      expect(tokens.length).toBeGreaterThan(1);
      expect(r.lines.at(-1)?.done).toBe(true);
      figures['first streamed chunk through frontend and backend pods (time to first line)'] =
        `${r.firstLineMs} ms`;
      const saved = await client.call(
        'POST',
        '/api/v1/chats/new',
        { chat: { title: 'Kept across pods', models: ['llama3.2:latest'], messages: [] } },
        adminToken,
      );
      expect(saved.status).toBe(200);
      chatId = (saved.json as { id: string }).id;
    } finally {
      stop();
    }
    figures['port-forward + chat round trip'] = `${Date.now() - started} ms`;
  });

  it('the page the frontend pod serves works in Chromium: sign in, pick a model, a streamed answer', async () => {
    const { client, stop } = await frontendClient();
    const { browser, close } = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
      await page.goto(`${client.baseUrl}/`);
      await page.getByLabel('Email', { exact: true }).fill(ADMIN.email);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitFor(
        'the chat screen',
        async () => (await page.getByRole('heading', { name: 'How can I help you today?' }).count()) === 1,
      );
      await page.getByLabel('Model', { exact: true }).selectOption('llama3.2:latest');
      await page.getByLabel('Message', { exact: true }).fill('Hello from a pod on the dev cluster');
      await page.getByRole('button', { name: 'Send' }).click();
      const answer = page.locator('article.assistant').last();
      await waitFor(
        'the streamed answer to finish',
        async () => (await answer.getAttribute('data-status')) === 'done',
      );
      const text = await answer.evaluate(
        (el) => el.querySelector('webui-markdown')?.shadowRoot?.textContent?.trim() ?? '',
      );
      expect(text.length).toBeGreaterThan(0);
      // SCREENSHOTS=1 refreshes the README's picture of the dev cluster (as the browser suite does).
      if (process.env.SCREENSHOTS === '1')
        await page.screenshot({ path: join(REPO_ROOT, 'docs', 'screenshots', 'dev-cluster-chat.png') });
    } finally {
      await close();
      stop();
    }
  });

  it('a spec change rolls the backend exactly once, and the running server enforces it', async () => {
    const backendBefore = replicaSets(kube, NS, 'chat-backend');
    const frontendBefore = replicaSets(kube, NS, 'chat-frontend');
    const started = Date.now();
    patchWebUi(kube, NS, 'chat', { ollama: { timeoutSeconds: 3 }, auth: { enableSignup: true } });
    await waitFor(
      'a new backend ReplicaSet',
      () => replicaSets(kube, NS, 'chat-backend').length > backendBefore.length,
    );
    rolledOut('chat-backend');
    await readyWebUi();
    figures['kubectl patch to rolled-out backend'] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    // Settled: give the operator a few more reconciles to prove it does not roll again.
    await new Promise((r) => setTimeout(r, 5000));
    const backendAfter = replicaSets(kube, NS, 'chat-backend');
    expect(backendAfter.length).toBe(backendBefore.length + 1);
    expect(backendAfter.filter((rs) => rs.replicas > 0)).toHaveLength(1);
    expect(replicaSets(kube, NS, 'chat-frontend')).toEqual(frontendBefore);

    const { client, stop } = await frontendClient();
    try {
      // Sign-up is open again, from the spec, and admins cannot change it.
      const bob = await client.signup('Bob', 'bob@example.com', 'e2e-Bob-passw0rd');
      expect(bob.status).toBe(200);
      const admin = await client.signin(ADMIN.email, ADMIN.password);
      const refused = await client.call(
        'POST',
        '/api/v1/auths/admin/config',
        { ENABLE_SIGNUP: false },
        admin,
      );
      expect(refused.status).toBe(409);
      expect((refused.json as { detail: string }).detail).toMatch(/ENABLE_SIGNUP is managed/);
      // The 3 s total timeout cuts a stalled answer short, with an error record naming the setting.
      const t0 = Date.now();
      const stalled = await client.chatStream(admin, 'stalled:latest', 'never finishes');
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(2500);
      expect(took).toBeLessThan(30_000);
      expect(JSON.stringify(stalled.lines.at(-1))).toMatch(/AIOHTTP_CLIENT_TIMEOUT/);
    } finally {
      stop();
    }
  });

  it('spec.config.resetToken wipes saved settings exactly once; users and chats stay; a restart does not reset again', async () => {
    let pf = await frontendClient();
    const admin = await pf.client.signin(ADMIN.email, ADMIN.password);
    const save = await pf.client.call(
      'POST',
      '/api/v1/auths/admin/config',
      { DEFAULT_USER_ROLE: 'user' },
      admin,
    );
    expect(save.status).toBe(200);
    const sources = async (token: string) =>
      (await pf.client.call('GET', '/api/v1/auths/admin/config', undefined, token)).json as {
        SOURCES: Record<string, string>;
        DEFAULT_USER_ROLE: string;
      };
    expect((await sources(admin)).SOURCES.DEFAULT_USER_ROLE).toBe('saved');

    patchWebUi(kube, NS, 'chat', { config: { resetToken: 'e2e-reset-1' } });
    const done = await waitFor(
      'status.configReset.token',
      () => {
        const w = webui();
        const reset = w.status?.configReset as { token?: string } | undefined;
        return reset?.token === 'e2e-reset-1' && condition(w, 'ConfigReset')?.status === 'True'
          ? w
          : undefined;
      },
      { timeoutMs: 300_000 },
    );
    expect(condition(done, 'ConfigReset')?.reason).toBe('ResetCompleted');
    pf.stop();

    pf = await frontendClient();
    const again = await pf.client.signin(ADMIN.email, ADMIN.password);
    const after = await sources(again);
    expect(after.SOURCES.DEFAULT_USER_ROLE).toBe('default');
    const chats = (await pf.client.call('GET', '/api/v1/chats/', undefined, again)).json as { id: string }[];
    expect(chats.map((c) => c.id)).toContain(chatId);

    // Saved again, then the backend pod dies: the new pod starts with the same token and resets nothing.
    expect(
      (await pf.client.call('POST', '/api/v1/auths/admin/config', { DEFAULT_USER_ROLE: 'user' }, again))
        .status,
    ).toBe(200);
    pf.stop();
    const old = podsOf('backend').map((p) => p.metadata.name);
    kube.kubectl(['-n', NS, 'delete', 'pod', ...old, '--wait=true']);
    await waitFor('a new backend pod', () => {
      const pods = podsOf('backend');
      return (
        pods.length === 1 &&
        !old.includes(pods[0]!.metadata.name) &&
        condition(pods[0]!, 'Ready')?.status === 'True'
      );
    });
    pf = await frontendClient();
    try {
      const token = await pf.client.signin(ADMIN.email, ADMIN.password);
      expect((await sources(token)).SOURCES.DEFAULT_USER_ROLE).toBe('saved');
      const kept = (await pf.client.call('GET', `/api/v1/chats/${chatId}`, undefined, token)).json as {
        title: string;
      };
      expect(kept.title).toBe('Kept across pods');
    } finally {
      pf.stop();
    }
  });

  it('through its Ingress (nginx configured from the object the API server holds), the API reaches the backend pods without the frontend', async () => {
    const backendBefore = replicaSets(kube, NS, 'chat-backend');
    patchWebUi(kube, NS, 'chat', { ingress: { host: 'chat.e2e.local', path: '/chat' } });
    // The backend now serves under /chat too (WEBUI_BASE_PATH), and so does the frontend: both roll.
    await waitFor(
      'a new backend ReplicaSet',
      () => replicaSets(kube, NS, 'chat-backend').length > backendBefore.length,
    );
    rolledOut('chat-backend');
    rolledOut('chat-frontend');
    await readyWebUi();
    const ingress = kube.json<V1Ingress>(['-n', NS, 'get', 'ingress/chat']);
    const backendIp = kube.json<{ spec: { clusterIP: string } }>(['-n', NS, 'get', 'service/chat-backend'])
      .spec.clusterIP;
    // The frontend's Service maps to a port nobody listens on: what answers the API here is not the frontend.
    const routes = routesFromIngress(ingress, {
      'chat-backend': `http://${backendIp}:8080`,
      'chat-frontend': `http://127.0.0.1:${await freePort()}`,
    });
    const dir = mkdtempSync(join(tmpdir(), 'webui-e2e-ingress-'));
    const nginx = await startNginx(dir, routes);
    try {
      expect((await fetch(`${nginx.url}/chat/`)).status).toBe(502);
      const client = new WebUiClient(`${nginx.url}/chat`);
      const token = await client.signin(ADMIN.email, ADMIN.password);
      const r = await client.chatStream(token, 'llama3.2:latest', 'Hello through the Ingress');
      expect(r.status).toBe(200);
      expect(r.lines.at(-1)?.done).toBe(true);
      figures['first streamed chunk through Ingress (nginx) and backend pod'] = `${r.firstLineMs} ms`;
    } finally {
      await nginx.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kubectl delete of the WebUI keeps its claim; the re-created WebUI has the same account and chats', async () => {
    const claimUid = kube.json<KubeObject>(['-n', NS, 'get', 'pvc/chat-data']).metadata.uid;
    kube.kubectl(['-n', NS, 'delete', 'webui/chat', '--wait=true']);
    await waitFor(
      'the WebUI children to be garbage-collected',
      () =>
        kube
          .kubectl([
            '-n',
            NS,
            'get',
            'deployments,services',
            '-l',
            'app.kubernetes.io/instance=chat',
            '-o',
            'name',
          ])
          .trim() === '',
    );
    expect(kube.json<KubeObject>(['-n', NS, 'get', 'pvc/chat-data']).metadata.uid).toBe(claimUid);
    kube.kubectl(['-n', NS, 'apply', '-f', EXAMPLE]);
    await readyWebUi();
    const { client, stop } = await frontendClient();
    try {
      const token = await client.signin(ADMIN.email, ADMIN.password);
      const chats = (await client.call('GET', '/api/v1/chats/', undefined, token)).json as { id: string }[];
      expect(chats.map((c) => c.id)).toContain(chatId);
    } finally {
      stop();
    }
  });

  it('reports a loopback baseUrl and an unreachable Ollama as probed from the operator pod', async () => {
    const doc = (name: string, url: string) =>
      `apiVersion: webui.dev/v1alpha1\nkind: WebUI\nmetadata: {name: ${name}, namespace: ${NS}}\nspec:\n  ollama: {baseUrl: "${url}"}\n  persistence: {retainOnDelete: false}\n`;
    kube.kubectl(
      ['apply', '-f', '-'],
      `${doc('loop', 'http://localhost:11434')}---\n${doc('nowhere', 'http://ollama.ollama.svc:11435')}`,
    );
    const loop = await waitFor('OllamaReachable on loop', () => condition(webui('loop'), 'OllamaReachable'));
    expect(loop).toMatchObject({ status: 'False', reason: 'LoopbackURL' });
    expect(loop.message).toContain('is the WebUI pod itself');
    const nowhere = await waitFor('OllamaReachable on nowhere', () =>
      condition(webui('nowhere'), 'OllamaReachable'),
    );
    expect(nowhere).toMatchObject({ status: 'False', reason: 'Unreachable' });
    expect(nowhere.message).toMatch(/ECONNREFUSED|refused/i);
    kube.kubectl(['-n', NS, 'delete', 'webui/loop', 'webui/nowhere', '--wait=true']);
  });

  it('says in Ready and Degraded which image a real kubelet cannot pull', async () => {
    const image = 'localhost/webui:does-not-exist';
    kube.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: webui.dev/v1alpha1\nkind: WebUI\nmetadata: {name: nopull, namespace: ${NS}}\nspec:\n  image: ${image}\n  ollama: {baseUrl: "http://ollama.ollama.svc:11434"}\n  persistence: {retainOnDelete: false}\n`,
    );
    const ready = await waitFor('Ready to name the image', () => {
      const r = condition(webui('nopull'), 'Ready');
      return r?.reason === 'PodsBlocked' && r.message?.includes(image) ? r : undefined;
    });
    expect(ready.status).toBe('False');
    expect(ready.message).toMatch(
      /(backend|frontend) pods? .*cannot pull image localhost\/webui:does-not-exist: (ErrImagePull|ImagePullBackOff)/,
    );
    expect(condition(webui('nopull'), 'Degraded')).toMatchObject({ status: 'True', reason: 'PodsBlocked' });
    kube.kubectl(['-n', NS, 'delete', 'webui/nopull', '--wait=true']);
  });

  it('helm upgrade with a changed operator value rolls the operator and nothing else', async () => {
    const operatorBefore = replicaSets(kube, NS, RELEASE);
    const backend = replicaSets(kube, NS, 'chat-backend');
    const frontend = replicaSets(kube, NS, 'chat-frontend');
    const webuiGeneration = webui().metadata.generation;
    kube.helm([
      'upgrade',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      '--reuse-values',
      '--set',
      'logLevel=debug',
      '--wait',
      '--timeout',
      '5m',
    ]);
    expect(replicaSets(kube, NS, RELEASE).length).toBe(operatorBefore.length + 1);
    await readyWebUi();
    await new Promise((r) => setTimeout(r, 5000));
    expect(replicaSets(kube, NS, 'chat-backend')).toEqual(backend);
    expect(replicaSets(kube, NS, 'chat-frontend')).toEqual(frontend);
    expect(webui().metadata.generation).toBe(webuiGeneration);
  });

  it('helm uninstall keeps the CRD (crds.keep=true) and the WebUIs; with crds.keep=false it removes the CRD, the claim stays', async () => {
    kube.helm(['uninstall', RELEASE, '--namespace', NS, '--wait']);
    expect(kube.json(['get', 'crd/webuis.webui.dev']).metadata.name).toBe('webuis.webui.dev');
    expect(webui().metadata.name).toBe('chat');
    // The same release takes the kept CRD back; uninstalling with keep=false then deletes it.
    installChart(kube, NS, ['--set', 'crds.keep=false']);
    await readyWebUi();
    kube.helm(['uninstall', RELEASE, '--namespace', NS, '--wait']);
    await waitFor(
      'the CRD to be gone',
      () => !kube.kubectl(['get', 'crd', '-o', 'name']).includes('webuis.webui.dev'),
    );
    await waitFor(
      'the WebUI children to be garbage-collected',
      () => kube.kubectl(['-n', NS, 'get', 'deployments', '-o', 'name']).trim() === '',
    );
    const pvc = kube.json<KubeObject & { status: { phase: string } }>(['-n', NS, 'get', 'pvc/chat-data']);
    expect(pvc.status.phase).toBe('Bound');
  });

  it('GitOps: helm template | kubectl apply --server-side installs in one pass; the re-created WebUI finds its data', async () => {
    const spec = (parse(readFileSync(EXAMPLE, 'utf8')) as { spec: Record<string, unknown> }).spec;
    const rendered = kube.helm([
      'template',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      // `helm test` pods are not part of an install (Argo CD and Flux leave them out as well).
      '--skip-tests',
      '--set',
      'webui.create=true',
      '--set',
      'webui.name=chat',
      '--set-json',
      `webui.spec=${JSON.stringify(spec)}`,
    ]);
    // Nothing the one-pass apply depends on is a hook (kubectl would apply a hook like any object).
    expect(rendered).not.toMatch(/helm\.sh\/hook:/);
    kube.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], rendered);
    rolledOut(RELEASE);
    await readyWebUi('chat');
    const snapshot = () =>
      kube.kubectl([
        '-n',
        NS,
        'get',
        'deployments,services,configmaps,secrets,webuis',
        '-o',
        'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
      ]);
    await new Promise((r) => setTimeout(r, 3000));
    const first = snapshot();
    kube.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-'], rendered);
    await new Promise((r) => setTimeout(r, 5000));
    expect(snapshot()).toBe(first);

    const { client, stop } = await frontendClient();
    try {
      const token = await client.signin(ADMIN.email, ADMIN.password);
      const chats = (await client.call('GET', '/api/v1/chats/', undefined, token)).json as { id: string }[];
      expect(chats.map((c) => c.id)).toContain(chatId);
    } finally {
      stop();
    }
  });
});
