import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { MemoryConfig, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

/** A port on 127.0.0.1 that nothing listens on (bound, noted, released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let fake: FakeOllama;
let app: ProxyApp;
let config: MemoryConfig;

beforeAll(async () => {
  fake = await startFakeOllama();
  config = new MemoryConfig({ ollamaBaseUrl: fake.url });
  app = await startProxyApp(config);
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const headers = { 'content-type': 'application/json', [ROLE_HEADER]: 'user' };
const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('errors', () => {
  it('unreachable loopback Ollama: 502 at once, with the hint for where the server runs, without waiting for timeouts', async () => {
    const port = await closedPort();
    // Timeouts far beyond the test's own limit: an answer proves nothing waited for them.
    Object.assign(config.values, {
      ollamaBaseUrl: `http://localhost:${port}`,
      clientTimeout: 100_000,
      connectTimeout: 100_000,
      streamIdleTimeout: 100_000,
    });
    const res = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: chat('llama3.2'),
    });
    expect(res.status).toBe(502);
    const { detail } = await res.json();
    expect(detail).toMatch(
      new RegExp(`^Ollama unreachable at http://localhost:${port}: connection refused \\(`),
    );
    // startProxyApp runs "on a plain machine": loopback-hint.test.ts covers containers, pods and itself.
    expect(detail).toContain('(hint: is Ollama running on this machine? Start it with `ollama serve`');
    expect(detail).not.toContain('host.docker.internal');
  });

  it('a non-loopback URL gets no hint', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (external === undefined) return; // no non-loopback interface on this machine
    const port = await closedPort();
    Object.assign(config.values, {
      ollamaBaseUrl: `http://${external.address}:${port}`,
      connectTimeout: 100_000,
    });
    const res = await fetch(`${app.url}/ollama/api/tags`, { headers });
    const { detail } = await res.json();
    expect(res.status).toBe(502);
    expect(detail).toMatch(/^Ollama unreachable at http:\/\/[\d.]+:\d+: /);
    expect(detail).not.toContain('hint');
  });

  it("Ollama's own error body keeps its status as {detail}", async () => {
    Object.assign(config.values, { ollamaBaseUrl: fake.url, clientTimeout: 300, connectTimeout: 5 });
    const failing = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: chat('failing'),
    });
    expect(failing.status).toBe(500);
    expect(await failing.json()).toEqual({ detail: 'llama runner process has terminated: exit status 2' });

    const missing = await fetch(`${app.url}/ollama/api/show`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'ghost' }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "model 'ghost' not found" });
  });

  it('OpenAI-style error bodies keep their status and message', async () => {
    const res = await fetch(`${app.url}/ollama/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: chat('ghost'),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'model "ghost:latest" not found, try pulling it first' });
  });

  it('bad request bodies are 400 with the field named', async () => {
    const res = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages: [] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/^model: /);
    const notJson = await fetch(`${app.url}/ollama/api/chat`, { method: 'POST', headers, body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('never forwards the client Authorization or Cookie headers', async () => {
    await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer user-session-token', cookie: 'token=secret' },
      body: JSON.stringify({ model: 'llama3.2', messages: [], stream: false, options: { seed: 99 } }),
    });
    const upstream = await fake.waitFor(
      (r) => (r.body as { options?: { seed?: number } }).options?.seed === 99,
    );
    expect(upstream.headers.authorization).toBeUndefined();
    expect(upstream.headers.cookie).toBeUndefined();
  });
});
