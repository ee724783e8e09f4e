/**
 * The OllamaReachable check: GET <url>/api/version for each configured URL.
 * Loopback URLs are not probed: inside a pod they point at the pod itself,
 * the top troubleshooting case in Open WebUI's guide.
 */

export type FetchFn = (
  url: string,
  init: { signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export type ProbeResult =
  | { url: string; state: 'reachable'; version?: string }
  | { url: string; state: 'loopback' }
  | { url: string; state: 'unreachable'; error: string };

export function isLoopbackUrl(raw: string): boolean {
  let host: string;
  try {
    host = new URL(raw).hostname.toLowerCase();
  } catch {
    return false;
  }
  // WHATWG URL already canonicalises 127.1, 2130706433 and [0:0:0:0:0:0:0:1]; an IPv4-mapped
  // address comes out in hex ([::ffff:7f00:1]); a trailing dot is the same DNS name.
  host = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '0.0.0.0' ||
    host === '::' ||
    host === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host) ||
    host === '::ffff:0:0'
  );
}

export async function probeOllama(url: string, fetchFn: FetchFn, timeoutMs: number): Promise<ProbeResult> {
  if (isLoopbackUrl(url)) return { url, state: 'loopback' };
  const target = `${url.replace(/\/+$/, '')}/api/version`;
  try {
    const res = await fetchFn(target, { signal: AbortSignal.timeout(timeoutMs) });
    // An Ollama behind an auth proxy answers 401/403 without a key: it is there.
    if (res.status === 401 || res.status === 403)
      return { url, state: 'reachable', version: `HTTP ${res.status}, needs a key` };
    if (!res.ok) return { url, state: 'unreachable', error: `GET ${target} answered HTTP ${res.status}` };
    const body = (await res.json().catch(() => ({}))) as { version?: unknown };
    return {
      url,
      state: 'reachable',
      ...(typeof body.version === 'string' ? { version: body.version } : {}),
    };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const detail =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000}s`
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

  constructor(opts: { fetch?: FetchFn; timeoutMs?: number; ttlMs?: number; now?: () => number } = {}) {
    this.fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  probe(urls: readonly string[]): Promise<ProbeResult[]> {
    const t = this.now();
    return Promise.all(
      urls.map((url) => {
        const hit = this.cache.get(url);
        if (hit && t - hit.at < this.ttlMs) return hit.result;
        const result = probeOllama(url, this.fetchFn, this.timeoutMs);
        this.cache.set(url, { at: t, result });
        if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
        return result;
      }),
    );
  }
}

export const LOOPBACK_ADVICE =
  "inside a pod, localhost/127.0.0.1 is the WebUI pod itself, not Ollama: use the Ollama Service DNS name (e.g. http://ollama.<namespace>.svc:11434) or the host machine's address";
