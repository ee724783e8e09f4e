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
