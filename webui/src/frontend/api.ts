/**
 * The one place the frontend talks HTTP. Every failure becomes an ApiError
 * whose message a person can read: the server's `{"detail": "..."}` when it
 * sent one, otherwise a sentence chosen from the status.
 */

export type Role = 'pending' | 'user' | 'admin';

export interface AppConfig {
  name: string;
  version: string;
  onboarding?: boolean;
  features: { auth: boolean; enable_signup: boolean; enable_login_form: boolean };
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  profile_image_url?: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * Where the API is: a dev server on another port sets `<meta name="webui-api-base">`;
 * otherwise the directory the page was loaded from, so an app served under a
 * path prefix (WEBUI_BASE_PATH, /chat/) calls /chat/api/... (routes live in the hash).
 */
export const apiBase: string =
  globalThis.document?.querySelector<HTMLMetaElement>('meta[name="webui-api-base"]')?.content ??
  pageDirectory(globalThis.location?.pathname ?? '/');

/** "/chat/" → "/chat", "/chat/index.html" → "/chat", "/" → "". */
export function pageDirectory(pathname: string): string {
  return pathname.replace(/\/[^/]*$/, '');
}

const FALLBACK: Record<number, string> = {
  401: 'Your session has ended. Please sign in again.',
  403: 'You do not have permission to do that.',
  404: 'That was not found on the server.',
  429: 'Too many attempts. Wait a few minutes and try again.',
  502: 'The server could not reach Ollama.',
  504: 'Ollama took too long to answer.',
};

/** Turns a failed response into a readable message. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let detail = '';
  try {
    const body: unknown = await res.json();
    detail = detailOf(body);
  } catch {
    // Not JSON (a proxy's HTML error page, an empty body): fall back to the status.
  }
  if (res.status === 429 && detail) detail = `${FALLBACK[429]} (${detail})`;
  const message =
    detail ||
    FALLBACK[res.status] ||
    `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
  return new ApiError(res.status, message);
}

/** Extracts a message from Open WebUI-style error bodies (pydantic/zod lists too) or Ollama's `{"error"}`. */
export function detailOf(body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body && !('detail' in body)) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'string') return e;
  }
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === 'string') return d;
    if (Array.isArray(d)) {
      return d
        .map((e) =>
          e && typeof e === 'object' && 'msg' in e ? String((e as { msg: unknown }).msg) : String(e),
        )
        .join('; ');
    }
  }
  return '';
}

/** Window event fired when an API call answers 401: the shell returns to the sign-in screen. */
export const SESSION_ENDED = 'webui:session-ended';

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** Fetches with the session cookie; returns the raw response after checking the status. */
export async function request(path: string, opts: RequestOptions = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(apiBase + path, {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      credentials: 'include',
      headers:
        opts.body === undefined ? { Accept: 'application/json' } : { 'Content-Type': 'application/json' },
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: opts.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the WebUI server. Check your connection and try again.');
  }
  if (!res.ok) {
    // A session that ended (expired token, deleted user) sends everyone back to sign-in,
    // except on the auth calls themselves, whose 401 the caller shows.
    if (res.status === 401 && !path.startsWith('/api/v1/auths/')) {
      globalThis.dispatchEvent?.(new CustomEvent(SESSION_ENDED));
    }
    throw await errorFromResponse(res);
  }
  return res;
}

/** JSON request; the caller states the shape it expects. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await request(path, opts);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
