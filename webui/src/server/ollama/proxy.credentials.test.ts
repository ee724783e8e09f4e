/**
 * An Ollama URL may carry Basic-auth credentials (http://user:pass@host, e.g.
 * behind an authenticating reverse proxy). They are sent upstream, but never
 * shown to clients in error details and never written to the logs.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import {
  captureLogger,
  MemoryConfig,
  ndjson,
  type ProxyApp,
  ROLE_HEADER,
  startProxyApp,
} from './test-app.ts';
import { withoutCredentials } from './upstream-errors.ts';

const PASSWORD = 'ollama-pass-5ecret';

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
const captured = captureLogger();
let withCreds: string;
let downWithCreds: string;

beforeAll(async () => {
  fake = await startFakeOllama();
  withCreds = fake.url.replace('http://', `http://ollama-user:${PASSWORD}@`);
  downWithCreds = `http://ollama-user:${PASSWORD}@127.0.0.1:${await closedPort()}`;
  config = new MemoryConfig({ ollamaBaseUrls: [withCreds] });
  app = await startProxyApp(config, captured.logger);
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const post = (path: string, body: object) =>
  fetch(`${app.url}/ollama${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [ROLE_HEADER]: 'user' },
    body: JSON.stringify(body),
  });
const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('credentials in an Ollama URL', () => {
  it('are masked by withoutCredentials, and URLs without them are unchanged', () => {
    expect(withoutCredentials('http://u:p@h:11434/x')).toBe('http://***@h:11434/x');
    expect(withoutCredentials('https://token@h')).toBe('https://***@h');
    expect(withoutCredentials('http://h:11434')).toBe('http://h:11434');
  });

  it('are sent upstream as Basic auth', async () => {
    Object.assign(config.values, {
      ollamaBaseUrls: [withCreds],
      clientTimeout: 300,
      streamIdleTimeout: null,
    });
    const res = await post('/api/chat', { ...chat('llama3.2'), stream: false, options: { seed: 9101 } });
    expect(res.status).toBe(200);
    const seen = await fake.waitFor(
      (r) => (r.body as { options?: { seed?: number } }).options?.seed === 9101,
    );
    expect(seen.headers.authorization).toBe(
      `Basic ${Buffer.from(`ollama-user:${PASSWORD}`).toString('base64')}`,
    );
  });

  it('never appear in a 502, a 504, a cut stream, the merged list errors, a 409, or the logs', async () => {
    Object.assign(config.values, { ollamaBaseUrls: [downWithCreds], clientTimeout: 300 });
    const unreachable = await post('/api/chat', chat('llama3.2'));
    expect(unreachable.status).toBe(502);
    const detail502 = (await unreachable.json()).detail as string;
    expect(detail502).toMatch(/^Ollama unreachable at http:\/\/\*\*\*@127\.0\.0\.1:\d+: /);

    Object.assign(config.values, { ollamaBaseUrls: [withCreds], clientTimeout: 0.2 });
    const timeout = await post('/api/chat', chat('hang'));
    expect(timeout.status).toBe(504);
    const detail504 = (await timeout.json()).detail as string;
    expect(detail504).toMatch(/^Ollama at http:\/\/\*\*\*@127\.0\.0\.1:\d+ did not finish/);

    Object.assign(config.values, { clientTimeout: 300 });
    const cut = await post('/api/chat', chat('dying'));
    const last = ndjson(await cut.text()).at(-1) as { error?: string };
    expect(last.error).toMatch(/^Ollama at http:\/\/\*\*\*@127\.0\.0\.1:\d+ broke off the stream/);

    Object.assign(config.values, { ollamaBaseUrls: [withCreds, downWithCreds] });
    const tags = await fetch(`${app.url}/ollama/api/tags`, { headers: { [ROLE_HEADER]: 'user' } });
    const listed = (await tags.json()) as { errors: { url: string }[] };
    expect(listed.errors).toHaveLength(1);
    expect(listed.errors[0]?.url).toMatch(/^http:\/\/\*\*\*@127\.0\.0\.1:\d+$/);

    Object.assign(config.values, {
      ollamaBaseUrls: [withCreds],
      ollamaApiConfigs: { '0': { enable: false } },
    });
    const disabled = await post('/api/chat/0', chat('llama3.2'));
    expect(disabled.status).toBe(409);
    const detail409 = (await disabled.json()).detail as string;
    expect(detail409).toMatch(/^Ollama connection 0 \(http:\/\/\*\*\*@127\.0\.0\.1:\d+\) is disabled/);
    Object.assign(config.values, { ollamaApiConfigs: {} });

    const logs = JSON.stringify(captured.lines);
    expect(logs).toContain('***@127.0.0.1');
    for (const text of [detail502, detail504, detail409, last.error, JSON.stringify(listed), logs])
      expect(text).not.toContain(PASSWORD);
  });
});
