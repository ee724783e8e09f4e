/**
 * The operator's HTTP client for the Kubernetes API: plain JSON in and out
 * over node:https, one keep-alive connection pool, a client-side token bucket
 * (kube/rate-limit.ts) and a timeout on every request, Retry-After honoured on
 * 429, and NDJSON watches.
 *
 * It replaces client-node at run time: the operator makes a dozen kinds of
 * calls, and client-node's generated layer costs ~85 MB of RSS just to load
 * (docs/operator.md, "API calls"). The API types still come from client-node,
 * as type-only imports.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { sleep } from './backoff.ts';
import { type ApiStatus, KubeApiError } from './errors.ts';
import type { WatchFn } from './informer.ts';
import type { Credentials, KubeConnection } from './kubeconfig.ts';
import { DEFAULT_RATE_LIMIT, TokenBucket } from './rate-limit.ts';

export const USER_AGENT = 'webui-operator/0.1';

export type Query = Record<string, string | number | boolean | undefined>;

export const CONTENT_TYPE = {
  json: 'application/json',
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
  /** Metadata only (no data, no spec): what a list or a watch event carries with this Accept. */
  metadataList: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  metadata: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
} as const;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Defaults to application/json. */
  accept?: string;
  signal?: AbortSignal;
}

export interface KubeClientOptions {
  /** Per-request timeout (whole request and response). Default 30 s. */
  timeoutMs?: number;
  /** A watch that delivers nothing (not even a bookmark) for this long is aborted. Default 90 s. */
  watchIdleMs?: number;
  /** Idle keep-alive connections kept for reuse. Default 16. (Open connections are not capped: each watch holds one.) */
  maxIdleSockets?: number;
  /** 429 answers are retried this many times, after Retry-After (capped at 10 s). Default 3. */
  throttleRetries?: number;
  /** Requests a second, sustained, watches and retries included. Default 20. */
  qps?: number;
  /** Requests at once after a quiet spell. Default 30. */
  burst?: number;
  userAgent?: string;
}

/** What the controller needs from a client: JSON requests and watches (tests pass fakes). */
export interface KubeTransport {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  get<T>(path: string, query?: Query, accept?: string): Promise<T>;
  watch: WatchFn;
}

/** Builds "path?query", skipping undefined values. */
export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

function parseStatus(text: string): ApiStatus | string {
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o === 'object' && o !== null) return o as ApiStatus;
  } catch {
    // not JSON: keep the text
  }
  return text;
}

function retryAfter(res: IncomingMessage): number | undefined {
  const v = Number(res.headers['retry-after']);
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

function sameKeyPair(a: Credentials, b: Credentials): boolean {
  const same = (x: Buffer | undefined, y: Buffer | undefined) =>
    x === y || (x !== undefined && y !== undefined && x.equals(y));
  return same(a.cert, b.cert) && same(a.key, b.key);
}

/**
 * Retires the pool of a client certificate that was rotated out: idle connections close now,
 * busy ones (open watches) when their response ends, instead of going back to the pool. So the
 * watches move to the new certificate one by one as they end, not all at once.
 */
function drain(agent: HttpAgent): void {
  agent.maxFreeSockets = 0;
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}

function hasOpenConnections(agent: HttpAgent): boolean {
  return Object.values(agent.sockets).some((list) => (list?.length ?? 0) > 0);
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('the API server closed the connection mid-response'));
    });
  });
}

export class KubeClient implements KubeTransport {
  private readonly conn: KubeConnection;
  private readonly timeoutMs: number;
  private readonly watchIdleMs: number;
  private readonly maxIdleSockets: number;
  private readonly throttleRetries: number;
  private readonly userAgent: string;
  private readonly secure: boolean;
  private readonly bucket: TokenBucket;
  /** The pool for the current client certificate (a new one when an exec plugin rotates it). */
  private pool: { agent: HttpAgent; creds: Credentials } | undefined;
  /** Pools of rotated-out certificates whose connections still carry a response. */
  private readonly draining = new Set<HttpAgent>();

  constructor(conn: KubeConnection, opts: KubeClientOptions = {}) {
    this.conn = conn;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.watchIdleMs = opts.watchIdleMs ?? 90_000;
    this.maxIdleSockets = opts.maxIdleSockets ?? 16;
    this.throttleRetries = opts.throttleRetries ?? 3;
    this.userAgent = opts.userAgent ?? USER_AGENT;
    this.secure = conn.server.startsWith('https:');
    this.bucket = new TokenBucket({
      qps: opts.qps ?? DEFAULT_RATE_LIMIT.qps,
      burst: opts.burst ?? DEFAULT_RATE_LIMIT.burst,
    });
  }

  get server(): string {
    return this.conn.server;
  }

  /** One JSON request; resolves with the parsed body, rejects with KubeApiError on a non-2xx answer. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const signal = opts.signal
      ? AbortSignal.any([opts.signal, AbortSignal.timeout(this.timeoutMs)])
      : AbortSignal.timeout(this.timeoutMs);
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, withQuery(path, opts.query), opts, signal);
      const text = await readBody(res).catch((e: unknown) => {
        throw signal.aborted ? signal.reason : e;
      });
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
      if (code === 401) this.conn.invalidate();
      const wait = retryAfter(res);
      // 429 means the server did not process the request (API Priority and Fairness): send it again.
      if (code === 429 && attempt < this.throttleRetries) {
        await sleep(Math.min(wait ?? 1, 10) * 1000, signal);
        signal.throwIfAborted();
        continue;
      }
      throw new KubeApiError(code, parseStatus(text), wait);
    }
  }

  get<T>(path: string, query?: Query, accept?: string): Promise<T> {
    return this.request<T>('GET', path, { ...(query ? { query } : {}), ...(accept ? { accept } : {}) });
  }

  /**
   * Opens a watch on `path` and streams its events. Resolves at once with the
   * controller that aborts it; `done` runs exactly once: with null when the
   * server ends the stream, or with the error (KubeApiError for a non-200
   * answer, a TimeoutError after watchIdleMs of silence, an AbortError).
   */
  readonly watch: WatchFn = async (path, query, onEvent, done, accept) => {
    const ctrl = new AbortController();
    let finished = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      done(err);
    };
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => ctrl.abort(new DOMException('the watch went silent', 'TimeoutError')),
        this.watchIdleMs,
      );
    };
    touch();
    this.send('GET', withQuery(path, { ...query, watch: true }), accept ? { accept } : {}, ctrl.signal).then(
      (res) => {
        if (res.statusCode !== 200) {
          readBody(res).then(
            (text) => finish(new KubeApiError(res.statusCode ?? 0, parseStatus(text), retryAfter(res))),
            (e: unknown) => finish(ctrl.signal.aborted ? ctrl.signal.reason : e),
          );
          return;
        }
        touch();
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          touch();
          buffered += chunk;
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            nl = buffered.indexOf('\n');
            if (line === '') continue;
            let ev: { type?: unknown; object?: unknown };
            try {
              ev = JSON.parse(line) as typeof ev;
            } catch {
              ctrl.abort(new Error(`the watch on ${path} sent a line that is not JSON`));
              return;
            }
            if (typeof ev.type === 'string') onEvent(ev.type, ev.object);
            if (finished || ctrl.signal.aborted) return;
          }
        });
        res.on('end', () => finish(null));
        res.on('error', (e) => finish(ctrl.signal.aborted ? ctrl.signal.reason : e));
        res.on('close', () => finish(ctrl.signal.aborted ? ctrl.signal.reason : null));
      },
      (e: unknown) => finish(e),
    );
    return ctrl;
  };

  /** Closes pooled connections (shutdown). */
  close(): void {
    this.pool?.agent.destroy();
    this.pool = undefined;
    for (const agent of this.draining) agent.destroy();
    this.draining.clear();
  }

  private agentFor(creds: Credentials): HttpAgent {
    const p = this.pool;
    if (p && sameKeyPair(p.creds, creds)) return p.agent;
    if (p) {
      drain(p.agent);
      this.draining.add(p.agent);
    }
    for (const agent of this.draining) if (!hasOpenConnections(agent)) this.draining.delete(agent);
    const common = { keepAlive: true, maxFreeSockets: this.maxIdleSockets };
    const agent = this.secure
      ? new HttpsAgent({
          ...common,
          ...(this.conn.ca ? { ca: this.conn.ca } : {}),
          ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
          ...(this.conn.servername ? { servername: this.conn.servername } : {}),
          rejectUnauthorized: !this.conn.insecure,
        })
      : new HttpAgent(common);
    this.pool = { agent, creds };
    return agent;
  }

  /** Sends one request and resolves with the response once its headers arrive. */
  private async send(
    method: string,
    pathAndQuery: string,
    opts: RequestOptions,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    await this.bucket.take(signal);
    const creds = await this.conn.credentials();
    signal.throwIfAborted();
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = {
      Accept: opts.accept ?? CONTENT_TYPE.json,
      'User-Agent': this.userAgent,
      ...(creds.authorization ? { Authorization: creds.authorization } : {}),
      ...(body
        ? { 'Content-Type': opts.contentType ?? CONTENT_TYPE.json, 'Content-Length': String(body.length) }
        : {}),
    };
    const send = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(`${this.conn.server}${pathAndQuery}`, {
        method,
        headers,
        agent: this.agentFor(creds),
      });
      // Not node:http's own `signal` option: it destroys the request with an AbortError, and when
      // the response ended in the same read (a watch's last line is an ERROR event), the socket
      // is already back in the pool and emits that error with nobody listening, which kills the
      // process. Destroyed without an error, the socket just closes; callers get signal.reason.
      const onAbort = () => {
        req.destroy();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', onAbort));
      req.on('response', resolve);
      req.on('error', (e) => reject(signal.aborted ? signal.reason : e));
      req.end(body);
    });
  }
}
