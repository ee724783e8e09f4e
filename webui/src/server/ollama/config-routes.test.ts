import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { MASKED_KEY } from './config-routes.ts';
import { MemoryConfig, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

let fake: FakeOllama;
let app: ProxyApp;

beforeAll(async () => {
  fake = await startFakeOllama({ requireKey: 'k1' });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const admin = { 'content-type': 'application/json', [ROLE_HEADER]: 'admin' };

async function fresh(config: MemoryConfig) {
  await app?.close();
  app = await startProxyApp(config);
  return app;
}
const update = (body: unknown) =>
  fetch(`${app.url}/ollama/config/update`, { method: 'POST', headers: admin, body: JSON.stringify(body) });

describe('/ollama/config', () => {
  it('shows the effective settings with keys masked and managed settings named', async () => {
    await fresh(
      new MemoryConfig(
        { ollamaBaseUrl: 'http://ollama:11434', ollamaApiConfigs: { '0': { key: 'secret', enable: true } } },
        ['ollamaBaseUrls'],
      ),
    );
    const res = await fetch(`${app.url}/ollama/config`, { headers: admin });
    expect(await res.json()).toEqual({
      ENABLE_OLLAMA_API: true,
      OLLAMA_BASE_URLS: ['http://ollama:11434'],
      OLLAMA_API_CONFIGS: { '0': { key: MASKED_KEY, enable: true } },
      MANAGED: ['OLLAMA_BASE_URLS'],
    });
  });

  it('saves URLs and configs, keeps a masked key, drops configs past the URL list', async () => {
    const config = (await fresh(new MemoryConfig({ ollamaApiConfigs: { '0': { key: 'secret' } } }))).config;
    const res = await update({
      ENABLE_OLLAMA_API: true,
      OLLAMA_BASE_URLS: ['http://a:11434/', 'http://b:11434'],
      OLLAMA_API_CONFIGS: { '0': { key: MASKED_KEY }, '1': { enable: false }, '5': { key: 'orphan' } },
    });
    expect(res.status).toBe(200);
    expect(config.values.ollamaBaseUrls).toEqual(['http://a:11434', 'http://b:11434']);
    expect(config.values.ollamaApiConfigs).toEqual({ '0': { key: 'secret' }, '1': { enable: false } });
    expect((await res.json()).OLLAMA_API_CONFIGS).toEqual({
      '0': { key: MASKED_KEY },
      '1': { enable: false },
    });
  });

  it('masks Basic-auth credentials inside URLs, and a masked URL sent back keeps them', async () => {
    const config = (
      await fresh(new MemoryConfig({ ollamaBaseUrls: ['http://alice:s3cret@a:11434', 'http://b:11434'] }))
    ).config;
    const view = await (await fetch(`${app.url}/ollama/config`, { headers: admin })).json();
    expect(view.OLLAMA_BASE_URLS).toEqual(['http://***@a:11434', 'http://b:11434']);
    expect(JSON.stringify(view)).not.toContain('s3cret');
    // The settings form posts the list back as shown, with one URL added in front.
    const res = await update({ OLLAMA_BASE_URLS: ['http://c:11434', ...view.OLLAMA_BASE_URLS] });
    expect(res.status).toBe(200);
    expect(config.values.ollamaBaseUrls).toEqual([
      'http://c:11434',
      'http://alice:s3cret@a:11434',
      'http://b:11434',
    ]);
    expect(JSON.stringify(await res.json())).not.toContain('s3cret');
  });

  it('keeps the masked key of a connection that moved when a URL before it was removed', async () => {
    const config = (
      await fresh(
        new MemoryConfig({
          ollamaBaseUrls: ['http://a:11434', 'http://b:11434'],
          ollamaApiConfigs: { '0': { key: 'key-a' }, '1': { key: 'key-b', prefix_id: 'b' } },
        }),
      )
    ).config;
    const res = await update({
      OLLAMA_BASE_URLS: ['http://b:11434'],
      OLLAMA_API_CONFIGS: { '0': { key: MASKED_KEY, prefix_id: 'b' } },
    });
    expect(res.status).toBe(200);
    expect(config.values.ollamaApiConfigs).toEqual({ '0': { key: 'key-b', prefix_id: 'b' } });
  });

  it('refuses a bad URL with 400 naming it, and writes nothing', async () => {
    const config = (await fresh(new MemoryConfig())).config;
    const res = await update({ ENABLE_OLLAMA_API: false, OLLAMA_BASE_URLS: ['http://ok:1', 'ftp://nope'] });
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/^OLLAMA_BASE_URLS\[1\]: expected an http\(s\) URL/);
    expect(config.writes).toEqual([]);
  });

  it('saves per-connection model settings, and refuses a wrong type with 400 naming the field', async () => {
    const config = (await fresh(new MemoryConfig({ ollamaBaseUrl: 'http://a:11434' }))).config;
    const ok = await update({
      OLLAMA_API_CONFIGS: { '0': { prefix_id: 'gpu', model_ids: ['llama3.2'], tags: [{ name: 'x' }] } },
    });
    expect(ok.status).toBe(200);
    expect(config.values.ollamaApiConfigs).toEqual({
      '0': { prefix_id: 'gpu', model_ids: ['llama3.2'], tags: [{ name: 'x' }] },
    });
    const writes = config.writes.length;
    const bad = await update({ OLLAMA_API_CONFIGS: { '0': { model_ids: 'llama3.2' } } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/OLLAMA_API_CONFIGS\.0\.model_ids/);
    expect(config.writes.length).toBe(writes);
  });

  it("lets the store's 409 for a managed setting through, before anything else is written", async () => {
    const config = (await fresh(new MemoryConfig({}, ['ollamaBaseUrls']))).config;
    const res = await update({ ENABLE_OLLAMA_API: false, OLLAMA_BASE_URLS: ['http://elsewhere:11434'] });
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toMatch(/OLLAMA_BASE_URLS is managed/);
    expect(config.writes).toEqual([]);
  });

  it('accepts the whole form when a managed value is unchanged', async () => {
    const config = (
      await fresh(new MemoryConfig({ ollamaBaseUrl: 'http://ollama:11434' }, ['ollamaBaseUrls']))
    ).config;
    const res = await update({ ENABLE_OLLAMA_API: false, OLLAMA_BASE_URLS: ['http://ollama:11434'] });
    expect(res.status).toBe(200);
    expect(config.writes).toEqual([{ key: 'enableOllamaApi', value: false }]);
  });

  it('is for admins only', async () => {
    await fresh(new MemoryConfig());
    const res = await fetch(`${app.url}/ollama/config/update`, {
      method: 'POST',
      headers: { ...admin, [ROLE_HEADER]: 'user' },
      body: JSON.stringify({ ENABLE_OLLAMA_API: false }),
    });
    expect(res.status).toBe(403);
  });
});

describe('/ollama/verify', () => {
  const verify = (body: unknown) =>
    fetch(`${app.url}/ollama/verify`, { method: 'POST', headers: admin, body: JSON.stringify(body) });

  it("returns Ollama's version, sending the key", async () => {
    await fresh(new MemoryConfig());
    const res = await verify({ url: fake.url, key: 'k1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ version: '0.6.5' });
    const noKey = await verify({ url: fake.url });
    expect(noKey.status).toBe(401);
  });

  it('verifies a masked URL with the stored credentials', async () => {
    const seen: (string | undefined)[] = [];
    const upstream = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"0.9.0"}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const { port } = upstream.address() as AddressInfo;
    try {
      await fresh(new MemoryConfig({ ollamaBaseUrls: [`http://alice:s3cret@127.0.0.1:${port}`] }));
      const res = await verify({ url: `http://***@127.0.0.1:${port}` });
      expect(res.status).toBe(200);
      expect(seen).toEqual([`Basic ${Buffer.from('alice:s3cret').toString('base64')}`]);
    } finally {
      upstream.closeAllConnections();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });

  it('unreachable: 502 with the loopback hint; bad URL: 400', async () => {
    await fresh(new MemoryConfig({ modelListTimeout: 100_000, connectTimeout: 100_000 }));
    const res = await verify({ url: 'http://127.0.0.1:1' });
    expect(res.status).toBe(502);
    expect((await res.json()).detail).toMatch(
      /^Ollama unreachable at http:\/\/127\.0\.0\.1:1: .*\(hint: is Ollama running on this machine\? Start it with `ollama serve`/,
    );
    const bad = await verify({ url: 'not a url' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/^url: expected an http\(s\) URL/);
  });
});
