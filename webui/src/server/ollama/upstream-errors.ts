/**
 * How an Ollama call can fail, and the words the client sees for each. The
 * router maps these to HTTP statuses (502 unreachable, 504 timeout before
 * headers) or, once a stream has started, to a final `{"error": "..."}` line.
 */
import { settings } from '../../contract/env.ts';

/** Why a timer cut the call; names the env variable so the fix is obvious. */
export type TimeoutKind = 'total' | 'idle' | 'modelList';

const TIMEOUT_ENV: Record<TimeoutKind, string> = {
  total: settings.clientTimeout.env,
  idle: settings.streamIdleTimeout.env,
  modelList: settings.modelListTimeout.env,
};

/**
 * The URL as clients and logs may see it: Basic-auth credentials in it
 * (http://user:pass@host) become `***`. They are still sent upstream.
 */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

/** No TCP connection (refused, DNS, unroutable, connect timeout, reset before any answer). */
export class UpstreamUnreachableError extends Error {
  readonly url: string;
  readonly reason: string;
  /** `hint`: what to try, for a URL whose meaning depends on where the server runs (loopback-hint.ts). */
  constructor(url: string, cause: string, hint = '') {
    super(`Ollama unreachable at ${withoutCredentials(url)}: ${cause}${hint}`);
    this.name = 'UpstreamUnreachableError';
    this.url = url;
    this.reason = cause;
  }
}

export class UpstreamTimeoutError extends Error {
  readonly kind: TimeoutKind;
  readonly url: string;
  constructor(url: string, kind: TimeoutKind, seconds: number) {
    const what =
      kind === 'idle'
        ? `sent nothing for ${seconds} s`
        : kind === 'modelList'
          ? `did not answer within ${seconds} s`
          : `did not finish its response within ${seconds} s`;
    super(`Ollama at ${withoutCredentials(url)} ${what} (${TIMEOUT_ENV[kind]})`);
    this.name = 'UpstreamTimeoutError';
    this.kind = kind;
    this.url = url;
  }
}

/** The client went away; nobody reads the answer, so nothing is reported to it. */
export class ClientGoneError extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientGoneError';
  }
}

const FRIENDLY: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
};

/**
 * A short human cause from a socket error, keeping the system's own text
 * (e.g. "connection refused (connect ECONNREFUSED 127.0.0.1:11434)").
 * Happy-eyeballs connects fail with an AggregateError whose message is empty.
 */
export function describeSocketError(err: unknown): string {
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  const e = (inner ?? {}) as { code?: unknown; message?: unknown };
  const outer = (err ?? {}) as { code?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof outer.code === 'string' ? outer.code : undefined;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : (code ?? String(err));
  const friendly = code !== undefined ? FRIENDLY[code] : undefined;
  return friendly !== undefined ? `${friendly} (${message})` : message;
}
