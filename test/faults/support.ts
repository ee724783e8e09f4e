// Shared pieces of the fault-injection tests: the operator as a black-box
// process, WebUI helpers, and the convergence check.
//
// "Converged" means: status.observedGeneration == metadata.generation, and every
// child the pure renderer wants exists, is owned by this WebUI, and contains
// the rendered content (subset comparison, so server-side defaults are fine;
// the config-hash annotations and the generated Secret data are left out
// because they depend on Secret digests and randomness the test cannot know).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type WebUI,
} from '../../operator/src/api/v1alpha1/webui.ts';
import { renderAll } from '../../operator/src/render/index.ts';
import { type AuditEvent, applyCrdFile, type ControlPlane } from '../harness/control-plane.ts';
import { freePorts } from '../harness/probe.ts';
import { type ManagedProcess, startProcess } from '../harness/process-group.ts';

export const REPO = join(import.meta.dirname, '../..');
export const OPERATOR_BIN = join(REPO, 'operator/bin/webui-operator.ts');
export const DEFAULT_IMAGE = 'example.invalid/webui:fault-test';
/** Every operator API call carries this User-Agent prefix (operator/src/kube/client.ts); the test's own calls do not. */
export const OPERATOR_USER_AGENT_PREFIX = 'webui-operator/';
export const NS = 'default';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${lastError})` : ''}`,
      );
    await sleep(intervalMs);
  }
}

/** Installs the WebUI CRD from crds/ and waits until it is served. */
export async function installCrd(cp: ControlPlane): Promise<void> {
  await applyCrdFile(cp, join(REPO, 'crds/webui.dev_webuis.yaml'));
}

// --- the operator process ---

export interface OperatorProcess {
  readonly name: string;
  readonly proc: ManagedProcess;
  readonly httpPort: number;
  readonly logPath: string;
  metricsText(): Promise<string>;
  /** Sum of webui_operator_reconcile_total over all results. */
  reconcileCount(): Promise<number>;
  /** Value of the webui_operator_leader gauge (undefined when /metrics does not answer). */
  isLeader(): Promise<boolean | undefined>;
  ready(): Promise<boolean>;
  /** kill -9 the whole process group. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (the graceful path). */
  stop(graceMs?: number): Promise<void>;
}

export interface OperatorProcessOptions {
  name: string;
  leaderElection?: boolean;
  /** Lease name (LEADER_ELECTION_ID). */
  leaseName?: string;
  env?: NodeJS.ProcessEnv;
  /** Script to run (default: the TypeScript sources, operator/bin/webui-operator.ts). */
  entry?: string;
}

export async function startOperator(
  cp: ControlPlane,
  opts: OperatorProcessOptions,
): Promise<OperatorProcess> {
  const [httpPort] = (await freePorts(1)) as [number];
  const logDir = join(cp.dir, 'operators');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${opts.name}.log`);
  const proc = startProcess(`operator-${opts.name}`, process.execPath, [opts.entry ?? OPERATOR_BIN], {
    logPath,
    env: {
      KUBECONFIG: cp.kubeconfigPath,
      POD_NAME: opts.name,
      POD_NAMESPACE: NS,
      WATCH_NAMESPACES: NS,
      DEFAULT_WEBUI_IMAGE: DEFAULT_IMAGE,
      LOG_LEVEL: 'debug',
      LEADER_ELECTION: String(opts.leaderElection ?? false),
      LEADER_ELECTION_NAMESPACE: NS,
      LEADER_ELECTION_ID: opts.leaseName ?? 'webui-operator',
      HTTP_PORT: String(httpPort),
      ...opts.env,
    },
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const metricsText = async () =>
    (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const op: OperatorProcess = {
    name: opts.name,
    proc,
    httpPort,
    logPath,
    metricsText,
    async reconcileCount() {
      const text = await metricsText();
      let sum = 0;
      for (const m of text.matchAll(/^webui_operator_reconcile_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm))
        sum += Number(m[1]);
      return sum;
    },
    async isLeader() {
      try {
        const m = /^webui_operator_leader (\d+)$/m.exec(await metricsText());
        return m ? m[1] === '1' : undefined;
      } catch {
        return undefined;
      }
    },
    async ready() {
      try {
        return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200;
      } catch {
        return false;
      }
    },
    async kill9() {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await proc.exited;
    },
    stop: (graceMs) => proc.stop(graceMs),
  };
  await waitFor(`operator ${opts.name} /readyz (log ${logPath})`, async () => {
    if (proc.exitInfo)
      throw new Error(`operator ${opts.name} exited: ${JSON.stringify(proc.exitInfo)}; see ${logPath}`);
    return op.ready();
  });
  return op;
}

/**
 * CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat (fields 14 and
 * 15, in clock ticks of 1/100 s on Linux).
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// --- WebUI resources ---

export interface Clients {
  crs: CustomObjectsApi;
  objects: KubernetesObjectApi;
}

/** The test's own clients (client-node's default User-Agent, so audit counts can tell them from the operator's). */
export function testClients(cp: ControlPlane): Clients {
  return {
    crs: cp.kubeConfig.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(cp.kubeConfig),
  };
}

const crd = { group: GROUP, version: VERSION, plural: PLURAL };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export async function createWebUI(c: Clients, name: string, spec: Record<string, unknown>): Promise<WebUI> {
  return (await c.crs.createNamespacedCustomObject({
    ...crd,
    namespace: NS,
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: NS }, spec },
  })) as WebUI;
}

export async function getWebUI(c: Clients, name: string): Promise<WebUI> {
  return (await c.crs.getNamespacedCustomObject({ ...crd, namespace: NS, name })) as WebUI;
}

export async function mergePatchWebUI(
  c: Clients,
  name: string,
  patch: Record<string, unknown>,
): Promise<WebUI> {
  return (await c.crs.patchNamespacedCustomObject(
    { ...crd, namespace: NS, name, body: patch },
    MERGE,
  )) as WebUI;
}

export async function setOllamaUrl(c: Clients, name: string, url: string): Promise<WebUI> {
  return mergePatchWebUI(c, name, { spec: { ollama: { baseUrl: url } } });
}

// --- convergence ---

function stripUnknowable(o: KubernetesObject): KubernetesObject {
  const copy = structuredClone(o) as KubernetesObject & {
    data?: unknown;
    stringData?: unknown;
    spec?: { template?: { metadata?: { annotations?: unknown } } };
  };
  if (copy.metadata) delete copy.metadata.annotations;
  delete copy.data;
  delete copy.stringData;
  if (copy.spec?.template?.metadata) delete copy.spec.template.metadata.annotations;
  return copy;
}

/** Every field of `want` is in `have` with an equal value; arrays must match element by element. */
export function subsetMismatch(want: unknown, have: unknown, path = ''): string | undefined {
  if (want === undefined) return undefined;
  if (want === null || typeof want !== 'object') {
    // Typed clients turn timestamps into Dates; compare by value.
    const h = have instanceof Date ? have.toISOString() : have;
    return Object.is(want, h) || (typeof want === 'number' && String(want) === String(h))
      ? undefined
      : `${path}: want ${JSON.stringify(want)}, have ${JSON.stringify(h)}`;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) {
      return `${path}: want ${want.length} items, have ${Array.isArray(have) ? have.length : JSON.stringify(have)}`;
    }
    for (let i = 0; i < want.length; i++) {
      const m = subsetMismatch(want[i], have[i], `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (have === null || typeof have !== 'object') return `${path}: missing`;
  for (const [k, v] of Object.entries(want)) {
    const m = subsetMismatch(v, (have as Record<string, unknown>)[k], `${path}.${k}`);
    if (m) return m;
  }
  return undefined;
}

/** The children the renderer wants for this WebUI, as the operator would apply them. */
export function desiredChildren(w: WebUI): KubernetesObject[] {
  return renderAll(w, {
    defaultImage: DEFAULT_IMAGE,
    secretDigests: {},
    generateSecretKey: () => 'unknowable',
  }).apply;
}

/**
 * client-node's typed models rename JSON keys that are reserved words in JS
 * (NetworkPolicy's `from` arrives as `_from`); the renderer speaks the wire
 * names, so compare against those.
 */
function wireNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(wireNames);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k === '_from' ? 'from' : k, wireNames(v)]),
  );
}

async function readObject(c: Clients, o: KubernetesObject): Promise<KubernetesObject | undefined> {
  try {
    return wireNames(
      await c.objects.read({
        apiVersion: o.apiVersion ?? '',
        kind: o.kind ?? '',
        metadata: { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? NS },
      }),
    ) as KubernetesObject;
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw e;
  }
}

/** Why this WebUI is not converged yet; empty when it is. */
export async function convergenceProblems(c: Clients, name: string): Promise<string[]> {
  const w = await getWebUI(c, name);
  const problems: string[] = [];
  if (w.status?.observedGeneration !== w.metadata.generation) {
    problems.push(
      `status.observedGeneration ${w.status?.observedGeneration} != generation ${w.metadata.generation}`,
    );
  }
  for (const want of desiredChildren(w)) {
    const id = `${want.kind}/${want.metadata?.name}`;
    const have = await readObject(c, want);
    if (!have) {
      problems.push(`${id} missing`);
      continue;
    }
    const owned = have.metadata?.ownerReferences?.some((r) => r.uid === w.metadata.uid && r.controller);
    const wantOwned = (want.metadata?.ownerReferences?.length ?? 0) > 0;
    if (wantOwned && !owned) problems.push(`${id} is not owned by WebUI uid ${w.metadata.uid}`);
    const mismatch = subsetMismatch(stripUnknowable(want), have);
    if (mismatch) problems.push(`${id} ${mismatch}`);
  }
  return problems;
}

export async function waitConverged(c: Clients, names: readonly string[], timeoutMs = 90_000): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(
      `${names.length} WebUI(s) to converge`,
      async () => {
        last = [];
        for (const n of names) {
          const p = await convergenceProblems(c, n);
          if (p.length) last.push(`${n}: ${p.join('; ')}`);
          if (last.length >= 3) break; // enough to report; saves calls while far from done
        }
        return last.length === 0;
      },
      timeoutMs,
      500,
    );
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nnot converged: ${last.join('\n')}`);
  }
}

export function condition(w: WebUI, type: string) {
  return w.status?.conditions?.find((c) => c.type === type);
}

// --- audit ---

/** Writes made by the operator process(es). */
export function operatorWrites(events: AuditEvent[]): AuditEvent[] {
  return events.filter((e) => (e.userAgent ?? '').startsWith(OPERATOR_USER_AGENT_PREFIX));
}

export function describeWrites(events: AuditEvent[]): string {
  const counts = new Map<string, number>();
  for (const e of events) {
    const r = e.objectRef;
    const key = `${e.verb} ${r?.resource ?? '?'}${r?.subresource ? `/${r.subresource}` : ''} ${e.responseStatus?.code ?? ''} ${e.userAgent ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} x ${k}`).join('\n');
}
