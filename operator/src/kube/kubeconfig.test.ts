import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { renderKubeconfig } from '../../../test/harness/kubeconfig.ts';
import { inClusterConnection, loadKubeConnection } from './kubeconfig.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

interface Entry {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/** A one-context kubeconfig named `name`, with overrides per section. */
function kubeconfig(name: string, e: Entry = {}, current: string | null = name): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: `https://${name}.example:6443`, ...e.cluster } }],
    users: [{ name, user: { token: `token-${name}`, ...e.user } }],
    contexts: [{ name, context: { cluster: name, user: name, ...e.context } }],
    ...(current ? { 'current-context': current } : {}),
  });
}

const load = (kubeconfigEnv: string, env: NodeJS.ProcessEnv = {}) =>
  loadKubeConnection({
    env: { ...env, KUBECONFIG: kubeconfigEnv },
    home: dir,
    serviceAccountDir: join(dir, 'sa'),
  });

describe('kubeconfig files', () => {
  it('reads inline CA and client certificate data (the test control plane kubeconfig)', async () => {
    const path = write(
      'admin.yaml',
      renderKubeconfig({
        server: 'https://127.0.0.1:6443/',
        caPem: 'CA PEM',
        user: { clientCertPem: 'CERT PEM', clientKeyPem: 'KEY PEM' },
      }),
    );
    const conn = await load(path);
    expect(conn.server).toBe('https://127.0.0.1:6443');
    expect(conn.ca?.toString()).toBe('CA PEM');
    expect(conn.insecure).toBe(false);
    const creds = await conn.credentials();
    expect(creds.cert?.toString()).toBe('CERT PEM');
    expect(creds.key?.toString()).toBe('KEY PEM');
    expect(creds.authorization).toBeUndefined();
    expect(conn.source).toBe(`kubeconfig ${path} (context envtest)`);
  });

  it('resolves certificate and token file paths relative to the kubeconfig file', async () => {
    write('certs/ca.crt', 'CA FROM FILE');
    write('certs/token', 'file-token\n');
    const path = write(
      'kube/config',
      kubeconfig('c', {
        cluster: { 'certificate-authority': '../certs/ca.crt', 'tls-server-name': 'api.internal' },
        user: { token: undefined, tokenFile: '../certs/token' },
        context: { namespace: 'team-a' },
      }),
    );
    const conn = await load(path);
    expect(conn.ca?.toString()).toBe('CA FROM FILE');
    expect(conn.servername).toBe('api.internal');
    expect(conn.namespace).toBe('team-a');
    expect((await conn.credentials()).authorization).toBe('Bearer file-token');
    // A rotated token is picked up once the cache is dropped (after a 401, or after a minute).
    write('certs/token', 'rotated-token');
    conn.invalidate();
    expect((await conn.credentials()).authorization).toBe('Bearer rotated-token');
  });

  it('supports a bearer token, basic auth and insecure-skip-tls-verify', async () => {
    const a = await load(write('a', kubeconfig('a', { cluster: { 'insecure-skip-tls-verify': true } })));
    expect(a.insecure).toBe(true);
    expect((await a.credentials()).authorization).toBe('Bearer token-a');
    const b = await load(
      write('b', kubeconfig('b', { user: { token: undefined, username: 'u', password: 'p' } })),
    );
    expect((await b.credentials()).authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('merges a KUBECONFIG list: the first file to define a name or current-context wins', async () => {
    const first = write('first', kubeconfig('one', {}, null));
    const second = write(
      'second',
      stringify({
        'current-context': 'one',
        clusters: [{ name: 'one', cluster: { server: 'https://shadowed:1' } }],
        users: [{ name: 'one', user: { token: 'shadowed' } }],
        contexts: [{ name: 'one', context: { cluster: 'one', user: 'one' } }],
      }),
    );
    const conn = await load([first, join(dir, 'missing'), second].join(delimiter));
    expect(conn.server).toBe('https://one.example:6443');
    expect((await conn.credentials()).authorization).toBe('Bearer token-one');
  });

  it.each([
    ['no current context', kubeconfig('x', {}, null), /no current-context is set/],
    ['an undefined context', kubeconfig('x', {}, 'nope'), /current context "nope" is not defined/],
    ['an undefined cluster', kubeconfig('x', { context: { cluster: 'gone' } }), /names cluster "gone"/],
    ['a server that is not a URL', kubeconfig('x', { cluster: { server: 'not a url' } }), /is not a URL/],
    ['a proxy-url', kubeconfig('x', { cluster: { 'proxy-url': 'http://proxy:3128' } }), /proxy-url/],
    [
      'an auth-provider',
      kubeconfig('x', { user: { token: undefined, 'auth-provider': { name: 'oidc' } } }),
      /auth-provider, which the operator does not support; use a token, a client certificate or an exec plugin/,
    ],
    [
      'a certificate without its key',
      kubeconfig('x', { user: { token: undefined, 'client-certificate-data': 'Y2VydA==' } }),
      /without its key/,
    ],
    [
      'a missing certificate file',
      kubeconfig('x', { cluster: { 'certificate-authority': 'nope.crt' } }),
      /nope\.crt/,
    ],
    ['YAML that does not parse', 'clusters: [unclosed', /is not valid YAML/],
  ])('names the problem on one line: %s', async (_what, content, message) => {
    const err = await load(write('bad', content)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^KUBECONFIG: /);
    expect((err as Error).message).not.toContain('\n');
  });

  it('fails with the path when KUBECONFIG points at a missing file', async () => {
    await expect(load(join(dir, 'absent'))).rejects.toThrow(/KUBECONFIG: cannot read .*absent/);
  });
});

describe('exec credential plugins', () => {
  /** A plugin that logs each run and prints the ExecCredential it is given in $REPLY. */
  function plugin(): { path: string; runs: () => string[] } {
    const log = join(dir, 'runs.log');
    const path = write(
      'bin/creds.sh',
      `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO|$EXTRA|$1" >> ${log}\n[ -n "$FAIL" ] && { echo "$FAIL" >&2; exit 3; }\nprintf '%s' "$REPLY"\n`,
    );
    chmodSync(path, 0o755);
    return {
      path,
      runs: () => {
        try {
          return readFileSync(log, 'utf8').trim().split('\n');
        } catch {
          return [];
        }
      },
    };
  }

  const execUser = (command: string, extra: Record<string, unknown> = {}) => ({
    token: undefined,
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command,
      args: ['--arg'],
      env: [{ name: 'EXTRA', value: 'from-kubeconfig' }],
      interactiveMode: 'Never',
      ...extra,
    },
  });
  const reply = (status: object) => JSON.stringify({ kind: 'ExecCredential', status });

  it('runs the plugin with ExecCredential info, its args and env, and caches the token until expiry', async () => {
    const p = plugin();
    const path = write(
      'config',
      kubeconfig('e', { user: execUser('./bin/creds.sh', { provideClusterInfo: true }) }),
    );
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const conn = await load(path, { REPLY: reply({ token: 'exec-token', expirationTimestamp: later }) });
    expect((await conn.credentials()).authorization).toBe('Bearer exec-token');
    expect((await conn.credentials()).authorization).toBe('Bearer exec-token');
    expect(p.runs()).toHaveLength(1);
    const [info, extra, arg] = (p.runs()[0] ?? '').split('|');
    expect(JSON.parse(info ?? '{}')).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://e.example:6443' } },
    });
    expect(extra).toBe('from-kubeconfig');
    expect(arg).toBe('--arg');
    // After a 401 the plugin runs again.
    conn.invalidate();
    await conn.credentials();
    expect(p.runs()).toHaveLength(2);
  });

  it('re-runs the plugin when its credential is about to expire, and runs it once for concurrent callers', async () => {
    const p = plugin();
    const path = write('config', kubeconfig('e', { user: execUser(p.path) }));
    const soon = new Date(Date.now() + 10_000).toISOString(); // inside the 30 s refresh margin
    const conn = await load(path, { REPLY: reply({ token: 't', expirationTimestamp: soon }) });
    await Promise.all([conn.credentials(), conn.credentials(), conn.credentials()]);
    expect(p.runs()).toHaveLength(1);
    await conn.credentials();
    expect(p.runs()).toHaveLength(2);
  });

  it('accepts a client certificate from the plugin', async () => {
    plugin();
    const path = write('config', kubeconfig('e', { user: execUser('./bin/creds.sh') }));
    const conn = await load(path, { REPLY: reply({ clientCertificateData: 'CERT', clientKeyData: 'KEY' }) });
    const creds = await conn.credentials();
    expect(creds.cert?.toString()).toBe('CERT');
    expect(creds.key?.toString()).toBe('KEY');
  });

  it('explains a failing, missing or silent plugin', async () => {
    plugin();
    const path = write('config', kubeconfig('e', { user: execUser('./bin/creds.sh') }));
    await expect((await load(path, { FAIL: 'token expired, run login' })).credentials()).rejects.toThrow(
      /exec plugin of user "e": .*creds\.sh failed: token expired, run login/,
    );
    await expect((await load(path, { REPLY: 'not json' })).credentials()).rejects.toThrow(
      /no ExecCredential JSON/,
    );
    await expect((await load(path, { REPLY: reply({}) })).credentials()).rejects.toThrow(
      /neither a token nor a certificate/,
    );
    const missing = write(
      'missing',
      kubeconfig('m', {
        user: execUser('kubelogin-not-installed', { installHint: 'install kubelogin first' }),
      }),
    );
    await expect((await load(missing)).credentials()).rejects.toThrow(
      /was not found \(install kubelogin first\)/,
    );
    const oldApi = write(
      'old',
      kubeconfig('o', { user: execUser('x', { apiVersion: 'client.authentication.k8s.io/v1alpha1' }) }),
    );
    await expect(load(oldApi)).rejects.toThrow(/use client.authentication.k8s.io\/v1 or v1beta1/);
  });
});

describe('in-cluster service account and lookup order', () => {
  function serviceAccount(token = 'sa-token') {
    const sa = join(dir, 'sa');
    write('sa/token', token);
    write('sa/ca.crt', 'CLUSTER CA');
    write('sa/namespace', 'operators\n');
    return sa;
  }
  const podEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  it('uses the service account token, CA and namespace, and re-reads a rotated token', async () => {
    const sa = serviceAccount();
    const conn = inClusterConnection(podEnv, sa);
    expect(conn?.server).toBe('https://10.96.0.1:443');
    expect(conn?.ca?.toString()).toBe('CLUSTER CA');
    expect(conn?.namespace).toBe('operators');
    expect((await conn?.credentials())?.authorization).toBe('Bearer sa-token');
    write('sa/token', 'rotated');
    conn?.invalidate();
    expect((await conn?.credentials())?.authorization).toBe('Bearer rotated');
  });

  it('brackets an IPv6 service host and is absent outside a pod', () => {
    const sa = serviceAccount();
    expect(
      inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa)?.server,
    ).toBe('https://[fd00::1]:443');
    expect(inClusterConnection({}, sa)).toBeUndefined();
    expect(inClusterConnection(podEnv, join(dir, 'no-such-dir'))).toBeUndefined();
  });

  it('prefers $KUBECONFIG, then the service account, then ~/.kube/config, else explains', async () => {
    const sa = serviceAccount();
    const opts = (env: NodeJS.ProcessEnv) => ({ env, home: dir, serviceAccountDir: sa });
    await expect(loadKubeConnection(opts({}))).rejects.toThrow(
      'KUBECONFIG: no cluster found; set KUBECONFIG to a kubeconfig file, or run in a pod with a service account',
    );
    write('.kube/config', kubeconfig('home'));
    expect((await loadKubeConnection(opts({}))).server).toBe('https://home.example:6443');
    expect((await loadKubeConnection(opts(podEnv))).source).toBe('in-cluster service account');
    const explicit = write('explicit', kubeconfig('explicit'));
    expect((await loadKubeConnection(opts({ ...podEnv, KUBECONFIG: explicit }))).server).toBe(
      'https://explicit.example:6443',
    );
  });
});
