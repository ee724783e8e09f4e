// A real Kubernetes control plane for tests, the way kubebuilder's envtest
// does it: etcd + kube-apiserver (RBAC on) and, on request,
// kube-controller-manager, on free loopback ports with freshly generated
// certificates. With `network` it is the control plane of a cluster with a
// real node (test/harness/cluster.ts): reachable from pods, every controller,
// kube-scheduler, and the Node authorizer. See docs/testing.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { type AuditEvent, readAuditLog, renderAuditPolicy } from './audit.ts';
import { type ControlPlaneBinaries, findBinaries } from './binaries.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import {
  type CertificateAuthority,
  type ControlPlanePki,
  createControlPlanePki,
  firstServiceIp,
  kubernetesServiceNames,
} from './pki.ts';
import { freePorts, get, responseStatus, send, sleep, type TlsClientOptions } from './probe.ts';
import { logTail, type ManagedProcess, registerExitCleanup, startProcess } from './process-group.ts';

export type { AuditEvent } from './audit.ts';
export type { TlsClientOptions } from './probe.ts';

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (GC, deployment, replicaset, namespace, serviceaccount(+token) controllers). */
  controllerManager?: boolean;
  /** Audit log of write requests (Metadata level; create/update/patch/delete/deletecollection). */
  auditLog?: boolean;
  extraApiServerArgs?: string[];
  extraControllerManagerArgs?: string[];
  /** State dir; default a fresh mkdtemp, removed on stop(). A dir passed here is kept. */
  dir?: string;
  /** How long startup may take before it fails (default 120 s: the CPU is shared). */
  startTimeoutMs?: number;
  /** kube-apiserver's port (default: a free one). */
  apiPort?: number;
  /**
   * The control plane of a cluster with a real node: kube-apiserver listens on and advertises
   * `hostIp` (pods reach it through the `kubernetes` Service), authorizes with Node,RBAC and admits
   * with NodeRestriction; kube-controller-manager runs every controller and allocates pod CIDRs;
   * kube-scheduler runs. Implies `controllerManager`.
   */
  network?: ClusterNetwork;
}

export interface ClusterNetwork {
  /** The machine's own interface address (read at run time; it differs per machine). */
  hostIp: string;
  /** Pod range, e.g. 198.18.0.0/17. */
  podCidr: string;
  /** Service range, e.g. 198.18.128.0/17. */
  serviceCidr: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  server: string;
  dir: string;
  /** Admin (system:masters) kubeconfig file. */
  kubeconfigPath: string;
  /** Loaded from kubeconfigPath. */
  kubeConfig: KubeConfig;
  caPem: string;
  /** CA and admin client certificate, for raw HTTPS requests (node:https options). */
  adminTls: TlsClientOptions;
  /** Same cluster, bearer-token user (for RBAC tests). */
  kubeConfigForToken(token: string): KubeConfig;
  kubeconfigYamlForToken(token: string): string;
  /** Parsed audit log lines (empty when auditLog is off). Events land just after the response: poll. */
  readAuditEvents(): Promise<AuditEvent[]>;
  /** Fault tests: kill only kube-apiserver (etcd keeps the data). */
  stopApiServer(): Promise<void>;
  /** Start kube-apiserver again on the same port with the same certificates; resolves when ready. */
  startApiServer(): Promise<void>;
  /** Stop everything and remove a temporary dir (idempotent). */
  stop(): Promise<void>;
  /** http://127.0.0.1:PORT of etcd. */
  etcdServer: string;
  /** Logs of each component: <logDir>/{etcd,kube-apiserver,kube-controller-manager}.log */
  logDir: string;
  binaries: ControlPlaneBinaries;
  /** Milliseconds startControlPlane took (for bench and diagnostics, not assertions). */
  startupMs: number;
  /** The CA (with its key): a node issues its kubelet and kube-proxy certificates from it. */
  ca: CertificateAuthority;
  /** Present when started with `network`. */
  network?: ClusterNetwork;
}

/** Every controller: what a real cluster runs (node lifecycle, endpoint slices, the root-CA publisher, PV binding, ...). */
const ALL_CONTROLLERS = ['*'];

const CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'deployment-controller',
  'replicaset-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
];
const POLL_MS = 100;
const MAX_ATTEMPTS = 3;

class PortInUseError extends Error {}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = findBinaries();
  if ((opts.controllerManager || opts.network) && !binaries.controllerManager) {
    throw new Error(
      `kube-controller-manager not found in ${binaries.source} or bin/; run \`make envtest-assets\``,
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, binaries);
    } catch (err) {
      // Free ports are only free until someone else takes them.
      if (err instanceof PortInUseError && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}

interface Layout {
  dir: string;
  pkiDir: string;
  logDir: string;
  file: (name: string) => string;
}

function writeState(dir: string, server: string, auditLog: boolean, network: ClusterNetwork | undefined) {
  const pkiDir = join(dir, 'pki');
  const logDir = join(dir, 'logs');
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  mkdirSync(logDir, { recursive: true });
  // Pods call the API server as https://kubernetes.default.svc (the first Service IP), and the
  // kubelet and kube-proxy by the machine's address: the serving certificate names all of them.
  const pki: ControlPlanePki = createControlPlanePki(
    network ? [network.hostIp, firstServiceIp(network.serviceCidr), ...kubernetesServiceNames()] : [],
  );
  const files: Record<string, string> = {
    'pki/ca.crt': pki.ca.certPem,
    'pki/ca.key': pki.ca.keyPem,
    'pki/apiserver.crt': pki.apiServer.certPem,
    'pki/apiserver.key': pki.apiServer.keyPem,
    'pki/sa.key': pki.serviceAccount.privateKeyPem,
    'pki/sa.pub': pki.serviceAccount.publicKeyPem,
    'admin.kubeconfig': renderKubeconfig({
      server,
      caPem: pki.ca.certPem,
      user: { clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem },
    }),
    'kube-controller-manager.kubeconfig': renderKubeconfig({
      server,
      caPem: pki.ca.certPem,
      user: { clientCertPem: pki.controllerManager.certPem, clientKeyPem: pki.controllerManager.keyPem },
    }),
  };
  if (network) {
    files['pki/kubelet-client.crt'] = pki.kubeletClient.certPem;
    files['pki/kubelet-client.key'] = pki.kubeletClient.keyPem;
    files['kube-scheduler.kubeconfig'] = renderKubeconfig({
      server,
      caPem: pki.ca.certPem,
      user: { clientCertPem: pki.scheduler.certPem, clientKeyPem: pki.scheduler.keyPem },
    });
  }
  if (auditLog) files['audit-policy.yaml'] = renderAuditPolicy();
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
  }
  const layout: Layout = { dir, pkiDir, logDir, file: (name) => join(dir, name) };
  const adminTls: TlsClientOptions = { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
  return { layout, caPem: pki.ca.certPem, adminTls, ca: pki.ca };
}

function etcdArgs(b: ControlPlaneBinaries, dataDir: string, clientUrl: string, peerUrl: string): string[] {
  const common = [
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
  ];
  if (b.etcdIsEmbedded) return [...common, '--unsafe-no-fsync=true', '--log-level=warn'];
  // A release etcd (setup-envtest layout) needs its single-member cluster spelled out.
  return [
    ...common,
    '--name=default',
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    '--initial-cluster-state=new',
    ...(etcdSupportsNoFsync(b.etcd) ? ['--unsafe-no-fsync=true'] : []),
  ];
}

const noFsyncSupport = new Map<string, boolean>();
function etcdSupportsNoFsync(etcd: string): boolean {
  let known = noFsyncSupport.get(etcd);
  if (known === undefined) {
    // etcd 3.4 has no --unsafe-no-fsync; ask its help text rather than guess from the version.
    const help = spawnSync(etcd, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    known = `${help.stdout}${help.stderr}`.includes('--unsafe-no-fsync');
    noFsyncSupport.set(etcd, known);
  }
  return known;
}

function apiServerArgs(
  opts: ControlPlaneOptions,
  l: Layout,
  port: number,
  etcdServer: string,
  server: string,
): string[] {
  const pki = (f: string) => join(l.pkiDir, f);
  const net = opts.network;
  return [
    `--etcd-servers=${etcdServer}`,
    `--secure-port=${port}`,
    ...(net
      ? [
          // Pods reach the API server through the kubernetes Service, whose endpoint is this address.
          `--bind-address=${net.hostIp}`,
          `--advertise-address=${net.hostIp}`,
          `--service-cluster-ip-range=${net.serviceCidr}`,
          '--authorization-mode=Node,RBAC',
          '--enable-admission-plugins=NodeRestriction',
          `--kubelet-client-certificate=${pki('kubelet-client.crt')}`,
          `--kubelet-client-key=${pki('kubelet-client.key')}`,
          `--kubelet-certificate-authority=${pki('ca.crt')}`,
          // Otherwise logs/exec/port-forward resolve the node name through the machine's resolver.
          '--kubelet-preferred-address-types=InternalIP,Hostname',
        ]
      : [
          '--bind-address=127.0.0.1',
          // No default route is needed, and no loopback endpoints for the kubernetes Service.
          '--advertise-address=127.0.0.1',
          '--endpoint-reconciler-type=none',
          '--service-cluster-ip-range=10.0.0.0/24',
          '--authorization-mode=RBAC',
        ]),
    `--cert-dir=${l.pkiDir}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--allow-privileged=true',
    // Without kube-controller-manager nobody creates the default ServiceAccount,
    // so the ServiceAccount admission plugin would reject every Pod (as in envtest).
    ...(opts.controllerManager || opts.network ? [] : ['--disable-admission-plugins=ServiceAccount']),
    // One client at a time: queueing fairness only costs startup time here.
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--shutdown-watch-termination-grace-period=1s',
    ...(opts.auditLog
      ? [
          `--audit-policy-file=${l.file('audit-policy.yaml')}`,
          `--audit-log-path=${l.file('audit.log')}`,
          '--audit-log-format=json',
          '--audit-log-mode=blocking',
          '--audit-log-maxbackup=0',
        ]
      : []),
    ...(opts.extraApiServerArgs ?? []),
  ];
}

function controllerManagerArgs(opts: ControlPlaneOptions, l: Layout): string[] {
  const net = opts.network;
  return [
    `--kubeconfig=${l.file('kube-controller-manager.kubeconfig')}`,
    '--secure-port=0', // no HTTPS endpoint, so no delegated authn/authz setup
    '--leader-elect=false',
    `--controllers=${(net ? ALL_CONTROLLERS : CONTROLLERS).join(',')}`,
    `--service-account-private-key-file=${join(l.pkiDir, 'sa.key')}`,
    `--root-ca-file=${join(l.pkiDir, 'ca.crt')}`,
    ...(net
      ? [
          // Each controller acts with its own ServiceAccount, as in a real cluster, so the
          // bootstrap RBAC roles of the controllers are exercised.
          '--use-service-account-credentials=true',
          '--allocate-node-cidrs=true',
          `--cluster-cidr=${net.podCidr}`,
          '--node-cidr-mask-size=24',
          `--service-cluster-ip-range=${net.serviceCidr}`,
          // The CSR signer needs a CA key; the node's certificates are issued by the harness instead.
          `--cluster-signing-cert-file=${join(l.pkiDir, 'ca.crt')}`,
          `--cluster-signing-key-file=${join(l.pkiDir, 'ca.key')}`,
        ]
      : ['--use-service-account-credentials=false']),
    '--kube-api-qps=100',
    '--kube-api-burst=200',
    ...(opts.extraControllerManagerArgs ?? []),
  ];
}

function schedulerArgs(l: Layout): string[] {
  return [
    // Our CA's loopback certificate, so its health endpoint can be probed with verification.
    `--tls-cert-file=${join(l.pkiDir, 'apiserver.crt')}`,
    `--tls-private-key-file=${join(l.pkiDir, 'apiserver.key')}`,
    `--kubeconfig=${l.file('kube-scheduler.kubeconfig')}`,
    `--authentication-kubeconfig=${l.file('kube-scheduler.kubeconfig')}`,
    `--authorization-kubeconfig=${l.file('kube-scheduler.kubeconfig')}`,
    // Its HTTPS endpoint (health, metrics) stays on loopback.
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
  ];
}

interface WaitContext {
  deadline: number;
  watch: ManagedProcess[];
}

/** Polls until check() is true; fails at once if a watched process exits. */
async function waitUntil(what: string, ctx: WaitContext, check: () => Promise<boolean>): Promise<void> {
  let lastError = '';
  for (;;) {
    const dead = ctx.watch.find((p) => p.exitInfo);
    if (dead) throw processDied(dead, what);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > ctx.deadline) {
      throw new Error(
        `control plane: timed out waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}\n` +
          ctx.watch.map((p) => `--- ${p.logPath} (tail) ---\n${logTail(p.logPath)}`).join('\n'),
      );
    }
    await sleep(POLL_MS);
  }
}

function processDied(p: ManagedProcess, what: string): Error {
  const tail = logTail(p.logPath);
  const how = p.exitInfo?.signal ? `signal ${p.exitInfo.signal}` : `code ${p.exitInfo?.code}`;
  const message = `control plane: ${p.name} exited (${how}) while waiting for ${what}; log ${p.logPath}:\n${tail}`;
  return /address already in use/i.test(tail) ? new PortInUseError(message) : new Error(message);
}

async function startOnce(opts: ControlPlaneOptions, binaries: ControlPlaneBinaries): Promise<ControlPlane> {
  const started = Date.now();
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'webui-envtest-'));
  const removeDir = () => {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  const unregisterCleanup = registerExitCleanup(removeDir);
  // A reused dir (dev-cluster, a retry) starts from scratch: etcd data from
  // another plane would carry that plane's member URLs and objects.
  for (const stale of ['etcd', 'logs', 'audit.log'])
    rmSync(join(dir, stale), { recursive: true, force: true });
  const [etcdPort = 0, peerPort = 0, freeApiPort = 0, schedulerPort = 0] = await freePorts(4);
  const apiPort = opts.apiPort ?? freeApiPort;
  const server = `https://${opts.network?.hostIp ?? '127.0.0.1'}:${apiPort}`;
  const etcdServer = `http://127.0.0.1:${etcdPort}`;
  const { layout, caPem, adminTls, ca } = writeState(dir, server, Boolean(opts.auditLog), opts.network);
  const kubeconfigPath = layout.file('admin.kubeconfig');
  const log = (name: string) => join(layout.logDir, `${name}.log`);
  const ctx: WaitContext = { deadline: started + (opts.startTimeoutMs ?? 120_000), watch: [] };

  let etcd: ManagedProcess | undefined;
  let apiServer: ManagedProcess | undefined;
  let controllerManager: ManagedProcess | undefined;
  let scheduler: ManagedProcess | undefined;
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      // Reverse start order: clients first, storage last.
      await scheduler?.stop();
      await controllerManager?.stop();
      await apiServer?.stop();
      await etcd?.stop();
      removeDir();
      unregisterCleanup();
    })();
    return stopping;
  };

  const apiArgs = apiServerArgs(opts, layout, apiPort, etcdServer, server);
  const startApiServer = async (deadline: number) => {
    apiServer = startProcess('kube-apiserver', binaries.apiServer, apiArgs, {
      logPath: log('kube-apiserver'),
    });
    const apiCtx: WaitContext = { deadline, watch: [etcd!, apiServer] };
    await waitUntil('kube-apiserver /readyz', apiCtx, async () => {
      return (await get(`${server}/readyz`, adminTls)).status === 200;
    });
    // readyz can pass a moment before the system namespaces exist.
    await waitUntil('namespace default', apiCtx, async () => {
      return (await get(`${server}/api/v1/namespaces/default`, adminTls)).status === 200;
    });
  };

  try {
    etcd = startProcess(
      'etcd',
      binaries.etcd,
      etcdArgs(binaries, join(dir, 'etcd'), etcdServer, `http://127.0.0.1:${peerPort}`),
      {
        logPath: log('etcd'),
      },
    );
    ctx.watch.push(etcd);
    await waitUntil('etcd /health', ctx, async () => (await get(`${etcdServer}/health`)).status === 200);
    await startApiServer(ctx.deadline);
    if ((opts.controllerManager || opts.network) && binaries.controllerManager) {
      controllerManager = startProcess(
        'kube-controller-manager',
        binaries.controllerManager,
        controllerManagerArgs(opts, layout),
        { logPath: log('kube-controller-manager') },
      );
      ctx.watch.push(apiServer!, controllerManager);
      // The serviceaccount controller creating default/default shows the controllers run.
      await waitUntil('kube-controller-manager (ServiceAccount default/default)', ctx, async () => {
        return (
          (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, adminTls)).status === 200
        );
      });
    }
    if (opts.network) {
      if (!binaries.scheduler) {
        throw new Error(
          `kube-scheduler not found in ${binaries.source} or bin/; run \`make envtest-assets\``,
        );
      }
      scheduler = startProcess(
        'kube-scheduler',
        binaries.scheduler,
        [...schedulerArgs(layout), `--secure-port=${schedulerPort}`],
        { logPath: log('kube-scheduler') },
      );
      ctx.watch.push(scheduler);
      await waitUntil('kube-scheduler /healthz', ctx, async () => {
        return (await get(`https://127.0.0.1:${schedulerPort}/healthz`, adminTls)).status === 200;
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const kubeconfigYamlForToken = (token: string) => renderKubeconfig({ server, caPem, user: { token } });

  return {
    server,
    dir,
    kubeconfigPath,
    kubeConfig,
    caPem,
    adminTls,
    etcdServer,
    logDir: layout.logDir,
    binaries,
    startupMs: Date.now() - started,
    ca,
    ...(opts.network ? { network: opts.network } : {}),
    kubeconfigYamlForToken,
    kubeConfigForToken(token) {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYamlForToken(token));
      return kc;
    },
    readAuditEvents: async () => (opts.auditLog ? readAuditLog(layout.file('audit.log')) : []),
    async stopApiServer() {
      await apiServer?.stop();
    },
    async startApiServer() {
      if (stopping) throw new Error('control plane: already stopped');
      if (apiServer && !apiServer.exitInfo)
        throw new Error('control plane: kube-apiserver is already running');
      try {
        await startApiServer(Date.now() + (opts.startTimeoutMs ?? 120_000));
      } catch (err) {
        await apiServer?.stop();
        throw err;
      }
    },
    stop,
  };
}

/** Creates or updates the CustomResourceDefinition(s) in a YAML file and waits until they are Established. */
export async function applyCrdFile(cp: ControlPlane, path: string): Promise<void> {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as V1CustomResourceDefinition | null)
    .filter((d): d is V1CustomResourceDefinition => d !== null);
  const api = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of docs) {
    const name = crd.metadata?.name;
    if (crd.kind !== 'CustomResourceDefinition' || !name) {
      throw new Error(`${path}: expected CustomResourceDefinition documents, got ${crd.kind ?? 'no kind'}`);
    }
    // Raw server-side apply, not the typed client: client-node's serializer
    // drops schema keys it maps to other names (enum, default,
    // x-kubernetes-validations), which would silently disable validation.
    const url = `${cp.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}?fieldManager=envtest&force=true`;
    const res = await send('PATCH', url, JSON.stringify(crd), 'application/apply-patch+yaml', cp.adminTls);
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${path}: applying CRD ${name} failed with ${res.status}: ${res.body}`);
    }
  }
  const deadline = Date.now() + 30_000;
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`CRD ${what} after 30s`);
      await sleep(POLL_MS);
    }
  };
  for (const crd of docs) {
    const name = crd.metadata!.name!;
    await waitFor(`${name} is not Established`, async () => {
      const current = await api.readCustomResourceDefinition({ name });
      return Boolean(
        current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
      );
    });
    // Established comes before the watch cache of the new resource is
    // initialized; until then watches get 429. Clients should retry anyway,
    // but tests are simpler if "applied" means "fully served".
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      const url = `${cp.server}/apis/${crd.spec.group}/${v.name}/${crd.spec.names.plural}?watch=1&timeoutSeconds=1`;
      await waitFor(`${name} ${v.name} cannot be watched`, async () => {
        return (await responseStatus(url, cp.adminTls)) === 200;
      });
    }
  }
}
