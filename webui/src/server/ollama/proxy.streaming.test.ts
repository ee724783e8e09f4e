import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { MemoryConfig, ndjson, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

let fake: FakeOllama;
let app: ProxyApp;

beforeAll(async () => {
  // The slow model waits a minute between tokens: the test is over long before that.
  fake = await startFakeOllama({ slowTokenDelayMs: 60_000 });
  app = await startProxyApp(new MemoryConfig({ ollamaBaseUrl: fake.url }));
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const headers = { 'content-type': 'application/json', [ROLE_HEADER]: 'user' };
const chat = (model: string, extra: object = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('streaming through /ollama', () => {
  it('passes the first chunk on while the upstream is still generating', async () => {
    const ac = new AbortController();
    const res = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: chat('slow'),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const line = JSON.parse(new TextDecoder().decode(first.value).trim());
    expect(line).toMatchObject({ message: { role: 'assistant', content: 'Hello' }, done: false });
    // At this moment the upstream has sent one chunk and has not finished.
    const upstream = await fake.waitFor(
      (r) => r.path === '/api/chat' && (r.body as { model?: string }).model === 'slow:latest',
    );
    expect(upstream.chunksSent).toBe(1);
    expect(upstream.finished).toBe(false);
    ac.abort();
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    const ac = new AbortController();
    const res = await fetch(`${app.url}/ollama/api/generate`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'slow', prompt: 'abort-me' }),
      signal: ac.signal,
    });
    await (res.body as ReadableStream<Uint8Array>).getReader().read();
    ac.abort();
    const upstream = await fake.waitFor(
      (r) => (r.body as { prompt?: string }).prompt === 'abort-me' && r.aborted,
    );
    expect(upstream.finished).toBe(false);
  });

  it('aborts the upstream request when the client leaves before any answer', async () => {
    const ac = new AbortController();
    const pending = fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: chat('hang', { options: { seed: 4242 } }),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await fake.waitFor((r) => (r.body as { options?: { seed?: number } }).options?.seed === 4242);
    ac.abort();
    await pending;
    const upstream = await fake.waitFor(
      (r) => (r.body as { options?: { seed?: number } }).options?.seed === 4242 && r.aborted,
    );
    expect(upstream.chunksSent).toBe(0);
  });

  it('relays a complete stream byte for byte, normalising the model name', async () => {
    const viaProxy = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: chat('llama3.2'),
    });
    const lines = ndjson(await viaProxy.text());
    expect(lines.map((l) => (l.message as { content: string }).content).join('')).toBe(
      'Hello from the fake Ollama.',
    );
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: 6 });
    const upstream = fake.requests.filter((r) => r.path === '/api/chat').at(-1);
    expect(upstream?.body).toMatchObject({ model: 'llama3.2:latest' });
  });

  it('returns one JSON object for stream:false', async () => {
    const res = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: chat('llama3.2', { stream: false }),
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({
      message: { content: 'Hello from the fake Ollama.' },
      done: true,
    });
  });

  it('ends a stream cut by the upstream with a final NDJSON error line', async () => {
    const res = await fetch(`${app.url}/ollama/api/chat`, { method: 'POST', headers, body: chat('dying') });
    expect(res.status).toBe(200);
    const lines = ndjson(await res.text());
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({ done: false });
    expect(lines[2]).toEqual({
      error: expect.stringMatching(/^Ollama at http:\/\/127\.0\.0\.1:\d+ broke off the stream/),
    });
  });

  it('ends a cut OpenAI-style stream with an SSE error event', async () => {
    const res = await fetch(`${app.url}/ollama/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: chat('dying', { stream: true }),
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n').filter((e) => e.trim() !== '');
    const last = events.at(-1) as string;
    expect(last.startsWith('data: ')).toBe(true);
    expect(JSON.parse(last.slice(6))).toMatchObject({
      error: { message: expect.stringMatching(/broke off/) },
    });
  });

  it('streams OpenAI chat completions as SSE ending in [DONE]', async () => {
    const res = await fetch(`${app.url}/ollama/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: chat('llama3.2', { stream: true }),
    });
    const text = await res.text();
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('streams pull progress for admins', async () => {
    const res = await fetch(`${app.url}/ollama/api/pull`, {
      method: 'POST',
      headers: { ...headers, [ROLE_HEADER]: 'admin' },
      body: JSON.stringify({ model: 'phi3' }),
    });
    const lines = ndjson(await res.text());
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.at(-1)).toEqual({ status: 'success' });
    expect(fake.modelNames()).toContain('phi3:latest');
  });

  it('streams OpenAI legacy completions as SSE, normalising the model name', async () => {
    const res = await fetch(`${app.url}/ollama/v1/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'llama3.2', prompt: 'Say hi', stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse((events[0] as string).slice(6))).toMatchObject({ object: 'text_completion' });
    expect(fake.requests.at(-1)?.body).toMatchObject({ model: 'llama3.2:latest', prompt: 'Say hi' });
  });

  it('streams push progress for admins, by DELETE as Open WebUI registers it and by POST', async () => {
    await fetch(`${fake.url}/api/copy`, {
      method: 'POST',
      body: JSON.stringify({ source: 'llama3.2', destination: 'team/llama' }),
    });
    for (const method of ['DELETE', 'POST']) {
      const res = await fetch(`${app.url}/ollama/api/push`, {
        method,
        headers: { ...headers, [ROLE_HEADER]: 'admin' },
        body: JSON.stringify({ model: 'team/llama' }),
      });
      const lines = ndjson(await res.text());
      expect(lines[0]).toEqual({ status: 'retrieving manifest' });
      expect(lines.at(-1)).toEqual({ status: 'success' });
      // Upstream it is always Ollama's POST /api/push.
      expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/push' });
    }
    // Ollama's own refusal comes back with its status and message.
    const refused = await fetch(`${app.url}/ollama/api/push`, {
      method: 'POST',
      headers: { ...headers, [ROLE_HEADER]: 'admin' },
      body: JSON.stringify({ model: 'llama3.2', stream: false }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/namespaced/);
  });
});
