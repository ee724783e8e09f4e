import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, detailOf, errorFromResponse, pageDirectory, request, SESSION_ENDED } from './api.ts';

const json = (status: number, body: unknown, statusText = '') =>
  new Response(JSON.stringify(body), { status, statusText, headers: { 'Content-Type': 'application/json' } });

describe('errorFromResponse: a message a person can read', () => {
  it("uses the server's detail", async () => {
    const err = await errorFromResponse(json(400, { detail: 'The email is already registered.' }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.message).toBe('The email is already registered.');
  });

  it('joins validation lists and reads Ollama-style {"error"} bodies', () => {
    expect(detailOf({ detail: [{ msg: 'email is invalid' }, { msg: 'password is too short' }] })).toBe(
      'email is invalid; password is too short',
    );
    expect(detailOf({ error: 'model "x" not found' })).toBe('model "x" not found');
    expect(detailOf({ detail: 'wins', error: 'loses' })).toBe('wins');
    expect(detailOf('plain')).toBe('');
  });

  it('explains rate limiting in words, keeping the detail', async () => {
    const err = await errorFromResponse(json(429, { detail: 'slow down' }));
    expect(err.message).toMatch(/^Too many attempts\. .*\(slow down\)$/);
  });

  it("falls back to the status when the body is not JSON (a proxy's HTML page)", async () => {
    const html = new Response('<html>Bad Gateway</html>', { status: 502 });
    expect((await errorFromResponse(html)).message).toBe('The server could not reach Ollama.');
    const teapot = new Response('', { status: 418, statusText: "I'm a teapot" });
    expect((await errorFromResponse(teapot)).message).toBe("The server answered 418 I'm a teapot.");
  });
});

describe('request', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('turns a network failure into a sentence', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('fetch failed')));
    await expect(request('/api/v1/chats/')).rejects.toThrow(/^Cannot reach the WebUI server\./);
  });

  it('lets an abort through as an abort, not as an error message', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new DOMException('aborted', 'AbortError')));
    await expect(request('/ollama/api/chat')).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('announces an ended session on a 401, except for the sign-in calls themselves', async () => {
    const events: string[] = [];
    vi.stubGlobal('dispatchEvent', (e: Event) => events.push(e.type));
    vi.stubGlobal('fetch', () => Promise.resolve(json(401, { detail: 'Not authenticated' })));
    await expect(request('/api/v1/auths/signin', { body: {} })).rejects.toThrow('Not authenticated');
    expect(events).toEqual([]);
    await expect(request('/api/v1/chats/')).rejects.toThrow('Not authenticated');
    expect(events).toEqual([SESSION_ENDED]);
  });

  it('sends JSON with the session cookie', async () => {
    const calls: RequestInit[] = [];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      calls.push(init);
      return Promise.resolve(json(200, {}));
    });
    await request('/api/v1/chats/new', { body: { chat: {} } });
    expect(calls[0]).toMatchObject({ method: 'POST', credentials: 'include', body: '{"chat":{}}' });
  });
});

describe('pageDirectory: the API base of a page served under a path prefix', () => {
  it('is the directory of the page, without a trailing slash', () => {
    expect(pageDirectory('/')).toBe('');
    expect(pageDirectory('/index.html')).toBe('');
    expect(pageDirectory('/chat/')).toBe('/chat');
    expect(pageDirectory('/team/chat/index.html')).toBe('/team/chat');
  });
});
