/**
 * Test scaffolding for the controllers (used by *.test.ts only): a host that
 * counts update requests, and a fake WebUI server behind `fetch`, with
 * `localStorage` and `location` stand-ins, all in Node.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { vi } from 'vitest';

export class FakeHost implements ReactiveControllerHost {
  readonly controllers: ReactiveController[] = [];
  updates = 0;
  readonly updateComplete = Promise.resolve(true);
  addController(c: ReactiveController) {
    this.controllers.push(c);
  }
  removeController() {}
  requestUpdate() {
    this.updates++;
  }
  connect() {
    for (const c of this.controllers) c.hostConnected?.();
  }
}

export const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/**
 * An NDJSON answer that sends `lines`, then either ends or (held) stays open
 * until the request is aborted, like a model still generating.
 */
export function ndjson(lines: unknown[], signal: AbortSignal | null | undefined, held = false): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const l of lines) controller.enqueue(new TextEncoder().encode(`${JSON.stringify(l)}\n`));
      if (!held) controller.close();
      else
        signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'application/x-ndjson' } });
}

export interface SeenCall {
  /** "POST /api/v1/chats/new" */
  route: string;
  body: unknown;
}

type Answer = (init: RequestInit, body: unknown) => Response | Promise<Response>;

/**
 * Stubs the browser globals the controllers use. `routes` answers
 * "METHOD /path"; anything else is a 404. Returns the calls as they come.
 */
export function fakeBrowser(routes: Record<string, Answer>) {
  const calls: SeenCall[] = [];
  const stored = new Map<string, string>();
  const location = {
    hash: '#/',
    replace: vi.fn((url: string) => {
      location.hash = url;
    }),
  };
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => stored.get(k) ?? null,
    setItem: (k: string, v: string) => void stored.set(k, v),
  });
  vi.stubGlobal('location', location);
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const route = `${init.method ?? 'GET'} ${url}`;
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ route, body });
    const answer = routes[route];
    return answer ? answer(init, body) : json(404, { detail: 'Not Found' });
  });
  return { calls, stored, location };
}
