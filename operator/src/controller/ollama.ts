/**
 * The OllamaReachable check: GET <url>/api/version for each configured URL.
 * Loopback URLs are not probed: inside a pod they point at the pod itself,
 * the top troubleshooting case in Open WebUI's guide.
 */
import { isLoopbackUrl } from '#contract';

/** The subset of fetch the probe uses (tests pass a fake). */
export type FetchFn = (
  url: string,
  init: { signal: AbortSignal; redirect: 'manual' },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
}>;

/** The most of an answer the probe reads: /api/version is a few bytes of JSON. */
export const MAX_PROBE_BODY = 64 * 1024;

export type ProbeResult =
  | { url: string; state: 'reachable'; version?: string }
  | { url: string; state: 'loopback' }
  | { url: string; state: 'unreachable'; error: string }
  /** The name did not resolve, and the operator runs outside the cluster: the pods may well resolve it. */
  | { url: string; state: 'notResolvableHere'; error: string };

/** DNS said no (or could not say): a cluster-internal name looks like this from outside the cluster. */
const NAME_NOT_RESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/** Reads at most `max` bytes of a body; undefined when it is longer (the rest is not read). */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<string | undefined> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return undefined;
      chunks.push(value);
    }
  } finally {
    // Stops the download (and frees the connection) whether we read it all or not.
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * GET <url>/api/version, time-boxed as a whole (connect, headers and body
 * within `timeoutMs`), without following redirects (a redirect could send the
 * operator's request anywhere its pod can reach) and reading at most
 * MAX_PROBE_BODY bytes. A URL with a query or fragment is not probed: the CRD
 * refuses it; only a WebUI stored before that rule can have one.
 * `inCluster`: the operator runs in a pod, so its DNS is the cluster's; run
 * from source on a workstation it cannot resolve Service names, and a name
 * that does not resolve says nothing about the WebUI's pods.
 */
export async function probeOllama(
  url: string,
  fetchFn: FetchFn,
  timeoutMs: number,
  inCluster = true,
): Promise<ProbeResult> {
  if (isLoopbackUrl(url)) return { url, state: 'loopback' };
  if (/[?#]/.test(url)) {
    return {
      url,
      state: 'unreachable',
      error: `${url} has a query or fragment; give the Ollama base URL only`,
    };
  }
  const target = `${url.replace(/\/+$/, '')}/api/version`;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetchFn(target, { signal, redirect: 'manual' });
    // An Ollama behind an auth proxy answers 401/403 without a key: it is there.
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => {});
      return { url, state: 'reachable', version: `HTTP ${res.status}, needs a key` };
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      const to = res.headers.get('location');
      return {
        url,
        state: 'unreachable',
        error: `GET ${target} answered HTTP ${res.status}${to ? ` (to ${to.slice(0, 200)})` : ''}; redirects are not followed: set the URL Ollama answers on`,
      };
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel().catch(() => {});
      return { url, state: 'unreachable', error: `GET ${target} answered HTTP ${res.status}` };
    }
    const text = await readCapped(res.body, MAX_PROBE_BODY);
    let version: unknown;
    try {
      version = text === undefined ? undefined : (JSON.parse(text) as { version?: unknown }).version;
    } catch {
      version = undefined;
    }
    return { url, state: 'reachable', ...(typeof version === 'string' ? { version } : {}) };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const code = err.cause?.code;
    if (!inCluster && !signal.aborted && code !== undefined && NAME_NOT_RESOLVED.has(code)) {
      return {
        url,
        state: 'notResolvableHere',
        error: `GET ${target} failed: ${code}; the operator runs outside the cluster and cannot resolve cluster DNS names (the WebUI pods can)`,
      };
    }
    const detail =
      signal.aborted || err.name === 'TimeoutError'
        ? `no complete answer within ${timeoutMs / 1000}s`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { url, state: 'unreachable', error: `GET ${target} failed: ${detail}` };
  }
}

/**
 * Probes with a small per-URL cache so reconciles triggered by watch events do
 * not hammer Ollama; the periodic requeue refreshes results after `ttlMs`.
 */
export class OllamaProber {
  private readonly cache = new Map<string, { at: number; result: Promise<ProbeResult> }>();
  private readonly fetchFn: FetchFn;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly inCluster: boolean;

  /** `inCluster` defaults to whether Kubernetes set KUBERNETES_SERVICE_HOST for this process (it does in every pod). */
  constructor(
    opts: {
      fetch?: FetchFn;
      timeoutMs?: number;
      ttlMs?: number;
      now?: () => number;
      inCluster?: boolean;
    } = {},
  ) {
    this.fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.inCluster = opts.inCluster ?? (process.env.KUBERNETES_SERVICE_HOST ?? '') !== '';
  }

  probe(urls: readonly string[]): Promise<ProbeResult[]> {
    const t = this.now();
    return Promise.all(
      urls.map((url) => {
        const hit = this.cache.get(url);
        if (hit && t - hit.at < this.ttlMs) return hit.result;
        const result = probeOllama(url, this.fetchFn, this.timeoutMs, this.inCluster);
        this.cache.set(url, { at: t, result });
        if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
        return result;
      }),
    );
  }
}

export const LOOPBACK_ADVICE =
  "inside a pod, localhost/127.0.0.1 is the WebUI pod itself, not Ollama: use the Ollama Service DNS name (e.g. http://ollama.<namespace>.svc:11434) or the host machine's address";
