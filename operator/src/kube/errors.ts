/** Uniform view of API-server failures: HTTP errors carry the server's Status, network errors their cause. */

/** The fields of a metav1.Status body that callers act on. */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
}

/** A non-2xx answer from the API server (or a non-200 answer to a watch). */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string | undefined;
  /** Retry-After in seconds, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: number, status: ApiStatus | string | undefined, retryAfterSeconds?: number) {
    const s: ApiStatus = typeof status === 'object' ? status : {};
    const text = typeof status === 'string' && status.trim() !== '' ? status.trim().slice(0, 500) : undefined;
    super(s.message ?? text ?? `HTTP ${code}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = s.reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The Status an ERROR watch event carries, as the error the same failure of a request would be. */
export function watchEventError(obj: unknown): KubeApiError {
  const s = (typeof obj === 'object' && obj !== null ? obj : {}) as ApiStatus & {
    details?: { retryAfterSeconds?: unknown };
  };
  const code = typeof s.code === 'number' ? s.code : 500;
  const retryAfter = s.details?.retryAfterSeconds;
  return new KubeApiError(
    code,
    { code, ...(s.reason ? { reason: s.reason } : {}), message: s.message ?? `watch ERROR event (${code})` },
    typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter : undefined,
  );
}

/** Milliseconds the server asked the client to wait (Retry-After), 0 when it did not. */
export function retryAfterMs(e: unknown): number {
  return e instanceof KubeApiError && e.retryAfterSeconds !== undefined ? e.retryAfterSeconds * 1000 : 0;
}

/**
 * The API server cannot serve the resourceVersion asked for: too old (410 Gone, compacted) or
 * newer than its cache has seen ("Too large resource version", 504).
 */
export function isResourceVersionUnavailable(e: unknown): boolean {
  if (!(e instanceof KubeApiError)) return false;
  return e.code === 410 || (e.code === 504 && /too large resource version/i.test(e.message));
}

export interface ApiFailure {
  code?: number;
  reason?: string;
  message: string;
}

export function apiFailure(e: unknown): ApiFailure {
  if (e instanceof KubeApiError)
    return { code: e.code, ...(e.reason ? { reason: e.reason } : {}), message: e.message };
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const code = (cause as { code?: unknown } | undefined)?.code;
    const detail =
      cause instanceof Error ? `: ${cause.message}` : typeof code === 'string' ? `: ${code}` : '';
    return { reason: e.name, message: `${e.message}${detail}` };
  }
  return { message: String(e) };
}

export function httpStatusOf(e: unknown): number | undefined {
  return e instanceof KubeApiError ? e.code : undefined;
}

export function isNotFound(e: unknown): boolean {
  return httpStatusOf(e) === 404;
}
