/**
 * Where the operator's API server is and how it authenticates, from a
 * kubeconfig file or the pod's service account. Written instead of
 * client-node's KubeConfig, whose import alone costs the process ~85 MB
 * (it loads every generated model); see docs/operator.md, "API calls".
 *
 * Lookup order is controller-runtime's: $KUBECONFIG, then the in-cluster
 * service account, then ~/.kube/config.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

/** What one request presents to the API server. */
export interface Credentials {
  /** Value of the Authorization header. */
  authorization?: string;
  /** Client certificate and key (PEM), when the user authenticates with TLS. */
  cert?: Buffer;
  key?: Buffer;
}

export interface KubeConnection {
  /** Base URL of the API server, without a trailing slash. */
  server: string;
  ca?: Buffer;
  /** Skip server certificate verification (insecure-skip-tls-verify). */
  insecure: boolean;
  /** TLS server name to verify instead of the URL's host (tls-server-name). */
  servername?: string;
  /** Credentials for the next request: token files are re-read and exec plugins re-run as needed. */
  credentials(): Promise<Credentials>;
  /** Forget cached credentials (after a 401), so the next request fetches fresh ones. */
  invalidate(): void;
  /** For logs: "kubeconfig <path> (context <name>)" or "in-cluster service account". */
  source: string;
  /** The context's namespace or the service account's namespace. */
  namespace?: string;
}

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound service-account tokens rotate; client-go re-reads the file every minute. */
const TOKEN_FILE_TTL_MS = 60_000;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Overridable for tests. */
  serviceAccountDir?: string;
  home?: string;
}

export async function loadKubeConnection(opts: LoadOptions = {}): Promise<KubeConnection> {
  const env = opts.env ?? process.env;
  const paths = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p.trim() !== '');
  if (paths.length > 0) return fromKubeconfigFiles(paths, env);
  const inCluster = inClusterConnection(env, opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  if (inCluster) return inCluster;
  const homeConfig = join(opts.home ?? homedir(), '.kube', 'config');
  if (existsSync(homeConfig)) return fromKubeconfigFiles([homeConfig], env);
  throw new KubeconfigError(
    'KUBECONFIG: no cluster found; set KUBECONFIG to a kubeconfig file, or run in a pod with a service account',
  );
}

// ---------------------------------------------------------------------------
// In-cluster

/** The pod's service account, or undefined outside a pod (no KUBERNETES_SERVICE_HOST or token). */
export function inClusterConnection(env: NodeJS.ProcessEnv, dir: string): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenPath = join(dir, 'token');
  if (!host || !port || !existsSync(tokenPath)) return undefined;
  const caPath = join(dir, 'ca.crt');
  const nsPath = join(dir, 'namespace');
  const token = cachedFileToken(tokenPath);
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...(existsSync(caPath) ? { ca: readFileSync(caPath) } : {}),
    insecure: false,
    credentials: async () => ({ authorization: `Bearer ${token.read()}` }),
    invalidate: () => token.reset(),
    source: 'in-cluster service account',
    ...(existsSync(nsPath) ? { namespace: readFileSync(nsPath, 'utf8').trim() } : {}),
  };
}

function cachedFileToken(path: string, ttlMs = TOKEN_FILE_TTL_MS) {
  let value = '';
  let readAt = 0;
  return {
    read(): string {
      if (value === '' || Date.now() - readAt > ttlMs) {
        try {
          value = readFileSync(path, 'utf8').trim();
          readAt = Date.now();
        } catch (e) {
          // Keep the last good token through a brief rotation window.
          if (value === '')
            throw new KubeconfigError(`cannot read the token file ${path}: ${(e as Error).message}`);
        }
      }
      return value;
    },
    reset(): void {
      readAt = 0;
    },
  };
}

// ---------------------------------------------------------------------------
// Kubeconfig files

type Dict = Record<string, unknown>;

interface Named {
  name: string;
  value: Dict;
  /** Directory of the file the entry came from: relative paths resolve against it. */
  dir: string;
}

/** The merged view of one or more kubeconfig files, with client-go's "first file wins" rule. */
export interface KubeconfigDoc {
  currentContext?: string;
  contexts: Map<string, Named>;
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  files: string[];
}

export async function fromKubeconfigFiles(paths: string[], env: NodeJS.ProcessEnv): Promise<KubeConnection> {
  const { parse } = await import('yaml');
  const doc: KubeconfigDoc = {
    contexts: new Map(),
    clusters: new Map(),
    users: new Map(),
    files: [],
  };
  for (const p of paths) {
    const file = resolve(p);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      // client-go skips missing files in a KUBECONFIG list, but not when all are missing.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && paths.length > 1) continue;
      throw new KubeconfigError(
        `KUBECONFIG: cannot read ${file} (${(e as Error).message.split('\n')[0]}); point KUBECONFIG at a readable kubeconfig file`,
      );
    }
    let parsed: unknown;
    try {
      parsed = parse(text);
    } catch (e) {
      throw new KubeconfigError(
        `KUBECONFIG: ${file} is not valid YAML (${(e as Error).message.split('\n')[0]}); fix or regenerate the file`,
      );
    }
    mergeKubeconfig(doc, parsed, file);
  }
  if (doc.files.length === 0) throw new KubeconfigError(`KUBECONFIG: none of ${paths.join(', ')} exists`);
  return connectionFromKubeconfig(doc, env);
}

function asDict(v: unknown): Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Dict) : {};
}

function str(d: Dict, key: string): string | undefined {
  const v = d[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function mergeKubeconfig(doc: KubeconfigDoc, parsed: unknown, file: string): void {
  const root = asDict(parsed);
  const dir = dirname(file);
  doc.files.push(file);
  doc.currentContext ??= str(root, 'current-context');
  const add = (into: Map<string, Named>, list: unknown, field: string) => {
    if (!Array.isArray(list)) return;
    for (const entry of list) {
      const e = asDict(entry);
      const name = str(e, 'name');
      if (name && !into.has(name)) into.set(name, { name, value: asDict(e[field]), dir });
    }
  };
  add(doc.contexts, root.contexts, 'context');
  add(doc.clusters, root.clusters, 'cluster');
  add(doc.users, root.users, 'user');
}

function fail(doc: KubeconfigDoc, what: string): never {
  throw new KubeconfigError(`KUBECONFIG: ${what} (in ${doc.files.join(', ')})`);
}

/** Reads `<key>-data` (base64) or `<key>` (a path relative to the file that named it). */
function material(entry: Named, key: string, doc: KubeconfigDoc): Buffer | undefined {
  const data = str(entry.value, `${key}-data`);
  if (data) return Buffer.from(data, 'base64');
  const path = str(entry.value, key);
  if (!path) return undefined;
  const full = isAbsolute(path) ? path : join(entry.dir, path);
  try {
    return readFileSync(full);
  } catch (e) {
    fail(
      doc,
      `${key} of "${entry.name}": cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

export function connectionFromKubeconfig(doc: KubeconfigDoc, env: NodeJS.ProcessEnv): KubeConnection {
  const ctxName = doc.currentContext;
  if (!ctxName) fail(doc, 'no current-context is set; run `kubectl config use-context <name>`');
  const ctx = doc.contexts.get(ctxName);
  if (!ctx) fail(doc, `the current context "${ctxName}" is not defined`);
  const clusterName = str(ctx.value, 'cluster');
  const cluster = clusterName ? doc.clusters.get(clusterName) : undefined;
  if (!cluster) fail(doc, `context "${ctxName}" names cluster "${clusterName ?? ''}", which is not defined`);
  const server = str(cluster.value, 'server');
  if (!server) fail(doc, `cluster "${cluster.name}" has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    fail(doc, `cluster "${cluster.name}" has server "${server}", which is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    fail(doc, `cluster "${cluster.name}" has server "${server}"; use an https:// URL`);
  if (str(cluster.value, 'proxy-url'))
    fail(
      doc,
      `cluster "${cluster.name}" sets proxy-url, which the operator does not support; reach the API server directly`,
    );

  const userName = str(ctx.value, 'user');
  const user = userName ? doc.users.get(userName) : undefined;
  if (userName && !user) fail(doc, `context "${ctxName}" names user "${userName}", which is not defined`);
  const ca = material(cluster, 'certificate-authority', doc);
  const servername = str(cluster.value, 'tls-server-name');
  const namespace = str(ctx.value, 'namespace');
  const auth = user ? userCredentials(user, doc, env, url.origin) : staticCredentials({});
  return {
    server: `${url.origin}${url.pathname.replace(/\/+$/, '')}`,
    ...(ca ? { ca } : {}),
    insecure: cluster.value['insecure-skip-tls-verify'] === true,
    ...(servername ? { servername } : {}),
    ...auth,
    source: `kubeconfig ${doc.files.join(delimiter)} (context ${ctxName})`,
    ...(namespace ? { namespace } : {}),
  };
}

type Auth = Pick<KubeConnection, 'credentials' | 'invalidate'>;

function staticCredentials(c: Credentials): Auth {
  return { credentials: async () => c, invalidate: () => {} };
}

function userCredentials(user: Named, doc: KubeconfigDoc, env: NodeJS.ProcessEnv, server: string): Auth {
  const u = user.value;
  for (const unsupported of ['auth-provider', 'as', 'as-groups', 'as-uid'] as const) {
    if (u[unsupported] !== undefined)
      fail(
        doc,
        `user "${user.name}" uses ${unsupported}, which the operator does not support; use a token, a client certificate or an exec plugin`,
      );
  }
  const cert = material(user, 'client-certificate', doc);
  const key = material(user, 'client-key', doc);
  if ((cert === undefined) !== (key === undefined))
    fail(
      doc,
      `user "${user.name}" has a client certificate without its key (or a key without its certificate)`,
    );
  const tls: Credentials = cert && key ? { cert, key } : {};

  const token = str(u, 'token');
  if (token) return staticCredentials({ ...tls, authorization: `Bearer ${token}` });
  const tokenFile = str(u, 'tokenFile');
  if (tokenFile) {
    const t = cachedFileToken(isAbsolute(tokenFile) ? tokenFile : join(user.dir, tokenFile));
    return {
      credentials: async () => ({ ...tls, authorization: `Bearer ${t.read()}` }),
      invalidate: () => t.reset(),
    };
  }
  const username = str(u, 'username');
  if (username) {
    const basic = Buffer.from(`${username}:${str(u, 'password') ?? ''}`).toString('base64');
    return staticCredentials({ ...tls, authorization: `Basic ${basic}` });
  }
  if (u.exec !== undefined) return execCredentials(user, doc, env, server, tls);
  return staticCredentials(tls);
}

// ---------------------------------------------------------------------------
// Exec credential plugins (client.authentication.k8s.io v1 and v1beta1)

interface ExecStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

const EXEC_TIMEOUT_MS = 60_000;
/** Refresh this long before the plugin's expiry, so no request carries a token about to lapse. */
const EXEC_EXPIRY_SLACK_MS = 30_000;

function execCredentials(
  user: Named,
  doc: KubeconfigDoc,
  env: NodeJS.ProcessEnv,
  server: string,
  tls: Credentials,
): Auth {
  const spec = asDict(user.value.exec);
  const command = str(spec, 'command');
  const apiVersion = str(spec, 'apiVersion');
  if (!command) fail(doc, `user "${user.name}" has an exec plugin without a command`);
  if (
    apiVersion !== 'client.authentication.k8s.io/v1' &&
    apiVersion !== 'client.authentication.k8s.io/v1beta1'
  )
    fail(
      doc,
      `user "${user.name}" has exec apiVersion "${apiVersion ?? ''}"; use client.authentication.k8s.io/v1 or v1beta1`,
    );
  // client-go: a command with a path separator is relative to the kubeconfig's directory.
  const file = command.includes('/') && !isAbsolute(command) ? join(user.dir, command) : command;
  const args = Array.isArray(spec.args) ? spec.args.map(String) : [];
  const extraEnv: Record<string, string> = {};
  if (Array.isArray(spec.env))
    for (const e of spec.env) {
      const d = asDict(e);
      const name = str(d, 'name');
      if (name) extraEnv[name] = String(d.value ?? '');
    }
  const info = {
    apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(spec.provideClusterInfo === true ? { cluster: { server } } : {}) },
  };
  const hint = str(spec, 'installHint');

  let cached: { creds: Credentials; expiresAt: number } | undefined;
  let pending: Promise<Credentials> | undefined;
  const run = async (): Promise<Credentials> => {
    const stdout = await new Promise<string>((resolveRun, reject) => {
      execFile(
        file,
        args,
        {
          env: { ...env, ...extraEnv, KUBERNETES_EXEC_INFO: JSON.stringify(info) },
          timeout: EXEC_TIMEOUT_MS,
          maxBuffer: 1 << 20,
        },
        (err, out, errOut) => {
          if (!err) return resolveRun(out);
          const why =
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? `${file} was not found${hint ? ` (${hint.trim().split('\n')[0]})` : ''}`
              : `${file} failed: ${
                  String(errOut || err.message)
                    .trim()
                    .split('\n')[0]
                }`;
          reject(new KubeconfigError(`KUBECONFIG: exec plugin of user "${user.name}": ${why}`));
        },
      );
    });
    let status: ExecStatus;
    try {
      status = asDict(asDict(JSON.parse(stdout)).status) as ExecStatus;
    } catch {
      throw new KubeconfigError(
        `KUBECONFIG: exec plugin of user "${user.name}" printed no ExecCredential JSON`,
      );
    }
    const creds: Credentials = { ...tls };
    if (status.token) creds.authorization = `Bearer ${status.token}`;
    if (status.clientCertificateData && status.clientKeyData) {
      creds.cert = Buffer.from(status.clientCertificateData);
      creds.key = Buffer.from(status.clientKeyData);
    }
    if (!creds.authorization && !creds.cert)
      throw new KubeconfigError(
        `KUBECONFIG: exec plugin of user "${user.name}" returned neither a token nor a certificate`,
      );
    const exp = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.NaN;
    cached = { creds, expiresAt: Number.isNaN(exp) ? Number.POSITIVE_INFINITY : exp - EXEC_EXPIRY_SLACK_MS };
    return creds;
  };
  return {
    credentials: async () => {
      if (cached && Date.now() < cached.expiresAt) return cached.creds;
      // One plugin run at a time, however many requests wait for it.
      pending ??= run().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate: () => {
      cached = undefined;
    },
  };
}
