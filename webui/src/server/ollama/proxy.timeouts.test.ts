import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { MemoryConfig, ndjson, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

// Timers are set to fractions of a second so the tests stay short; assertions are
// on which timeout fired (the detail names its variable), never on elapsed time.
let fake: FakeOllama;
let slowLists: FakeOllama;
let app: ProxyApp;
let config: MemoryConfig;

beforeAll(async () => {
  fake = await startFakeOllama();
  slowLists = await startFakeOllama({ listDelayMs: 5_000 });
  config = new MemoryConfig({ ollamaBaseUrl: fake.url });
  app = await startProxyApp(config);
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
  await slowLists?.close();
});

const headers = { 'content-type': 'application/json', [ROLE_HEADER]: 'user' };
const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
const post = (path: string, body: string) =>
  fetch(`${app.url}/ollama${path}`, { method: 'POST', headers, body });

function use(values: ConstructorParameters<typeof MemoryConfig>[0]) {
  Object.assign(config.values, { ollamaBaseUrl: fake.url, ollamaBaseUrls: [] }, values);
}

describe('timeouts', () => {
  it('AIOHTTP_CLIENT_TIMEOUT before headers: 504 naming the variable', async () => {
    use({ clientTimeout: 0.2, streamIdleTimeout: null });
    const res = await post('/api/chat', chat('hang'));
    expect(res.status).toBe(504);
    expect((await res.json()).detail).toMatch(
      /^Ollama at http:\/\/127\.0\.0\.1:\d+ did not finish its response within 0\.2 s \(AIOHTTP_CLIENT_TIMEOUT\)$/,
    );
    await fake.waitFor((r) => (r.body as { model?: string }).model === 'hang:latest' && r.aborted);
  });

  it('AIOHTTP_CLIENT_TIMEOUT bounds the whole stream: a final error line after the chunks', async () => {
    use({ clientTimeout: 0.3, streamIdleTimeout: null });
    const res = await post('/api/chat', chat('stalled'));
    expect(res.status).toBe(200);
    const lines = ndjson(await res.text());
    expect(lines[0]).toMatchObject({ message: { content: 'Hello' }, done: false });
    expect(lines.at(-1)).toEqual({
      error: expect.stringMatching(/within 0\.3 s \(AIOHTTP_CLIENT_TIMEOUT\)$/),
    });
  });

  it('AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT cuts a silent stream with a final error line', async () => {
    use({ clientTimeout: 300, streamIdleTimeout: 0.2 });
    const res = await post('/api/generate', JSON.stringify({ model: 'stalled', prompt: 'x' }));
    const lines = ndjson(await res.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ response: 'Hello' });
    expect(lines[1]).toEqual({
      error: expect.stringMatching(/sent nothing for 0\.2 s \(AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT\)$/),
    });
  });

  it('AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT before headers: 504', async () => {
    use({ clientTimeout: 300, streamIdleTimeout: 0.2 });
    const res = await post('/api/chat', chat('hang'));
    expect(res.status).toBe(504);
    expect((await res.json()).detail).toMatch(/AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT/);
  });

  it('the idle timeout does not apply to a slow but steady stream', async () => {
    const steady = await startFakeOllama({ slowTokenDelayMs: 50 });
    try {
      use({ ollamaBaseUrl: steady.url, clientTimeout: 300, streamIdleTimeout: 0.2 });
      const lines = ndjson(await (await post('/api/chat', chat('slow'))).text());
      expect(lines.at(-1)).toMatchObject({ done: true });
      expect(lines.some((l) => 'error' in l)).toBe(false);
    } finally {
      await steady.close();
    }
  });

  it('AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: 504 for one connection, reported per connection when merged', async () => {
    use({ modelListTimeout: 0.2, ollamaBaseUrls: [fake.url, slowLists.url] });
    const one = await fetch(`${app.url}/ollama/api/tags/1`, { headers });
    expect(one.status).toBe(504);
    expect((await one.json()).detail).toMatch(
      /did not answer within 0\.2 s \(AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST\)/,
    );

    const merged = await fetch(`${app.url}/ollama/api/tags`, { headers });
    expect(merged.status).toBe(200);
    const body = await merged.json();
    expect(body.models.length).toBeGreaterThan(0);
    expect(body.errors).toEqual([
      {
        url_idx: 1,
        url: slowLists.url,
        status: 504,
        detail: expect.stringMatching(/AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST/),
      },
    ]);
  });

  it('timeouts are read per request, so a changed value applies at once', async () => {
    use({ clientTimeout: 0.2, streamIdleTimeout: null });
    expect((await post('/api/chat', chat('hang'))).status).toBe(504);
    use({ clientTimeout: null, streamIdleTimeout: null });
    const lines = ndjson(await (await post('/api/chat', chat('llama3.2'))).text());
    expect(lines.at(-1)).toMatchObject({ done: true });
  });
});
