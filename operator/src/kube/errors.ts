/** Uniform view of client-node failures (ApiException.body is a JSON string, watch errors carry statusCode). */
import { ApiException } from '@kubernetes/client-node';

export interface ApiFailure {
  code?: number;
  reason?: string;
  message: string;
}

export function apiFailure(e: unknown): ApiFailure {
  if (e instanceof ApiException) {
    let body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // keep the raw string
      }
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as {
      reason?: string;
      message?: string;
    };
    return {
      code: e.code,
      ...(b.reason ? { reason: b.reason } : {}),
      message: b.message ?? (typeof body === 'string' && body !== '' ? body : `HTTP ${e.code}`),
    };
  }
  if (e instanceof Error) {
    const code = (e as Error & { statusCode?: number }).statusCode;
    const cause = (e as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return { ...(code !== undefined ? { code } : {}), reason: e.name, message: `${e.message}${detail}` };
  }
  return { message: String(e) };
}

export function isNotFound(e: unknown): boolean {
  return apiFailure(e).code === 404;
}
