import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../../test/fake-ollama/fake-ollama.ts';
import { compareVersions } from './handlers/model-lists.ts';
import { mergeTags, normalizeModelName } from './model-registry.ts';
import { captureLogger, MemoryConfig, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

let a: FakeOllama;
let b: FakeOllama;
let downUrl: string;
let app: ProxyApp;
let config: MemoryConfig;
const { logger, lines } = captureLogger();

beforeAll(async () => {
  a = await startFakeOllama({
    version: '0.6.5',
    models: [
      { name: 'llama3.2:latest', kind: 'normal' },
      { name: 'shared:latest', kind: 'normal' },
    ],
  });
  b = await startFakeOllama({
    version: '0.5.12',
    models: [
      { name: 'qwen2.5:7b', kind: 'normal' },
      { name: 'shared:latest', kind: 'normal' },
    ],
    requireKey: 'b-secret',
  });
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  downUrl = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  await new Promise<void>((r) => srv.close(() => r()));
  config = new MemoryConfig();
  app = await startProxyApp(config, logger);
});
afterAll(async () => {
  await app?.close();
  await a?.close();
  await b?.close();
});

const headers = { 'content-type': 'application/json', [ROLE_HEADER]: 'user' };
function use(urls: string[], extra: ConstructorParameters<typeof MemoryConfig>[0] = {}) {
  Object.assign(
    config.values,
    { ollamaBaseUrls: urls, ollamaApiConfigs: { '1': { key: 'b-secret' } }, enableOllamaApi: true },
    extra,
  );
}
const chatTo = async (model: string, path = '/api/chat') =>
  fetch(`${app.url}/ollama${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: false }),
  });

describe('several Ollama connections', () => {
  it('merges model lists and records which connections have each model', async () => {
    use([a.url, b.url]);
    const res = await fetch(`${app.url}/ollama/api/tags`, { headers });
    expect(res.status).toBe(200);
    const body = await res.json();
    const urls = Object.fromEntries(
      body.models.map((m: { model: string; urls: number[] }) => [m.model, m.urls]),
    );
    expect(urls).toEqual({ 'llama3.2:latest': [0], 'shared:latest': [0, 1], 'qwen2.5:7b': [1] });
    expect(body.errors).toEqual([]);
  });

  it('reports a connection that is down, logs it, and still lists the others', async () => {
    use([a.url, downUrl]);
    const res = await fetch(`${app.url}/ollama/api/tags`, { headers });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.models.map((m: { model: string }) => m.model)).toContain('llama3.2:latest');
    expect(body.errors).toEqual([
      {
        url_idx: 1,
        url: downUrl,
        status: 502,
        detail: expect.stringMatching(/^Ollama unreachable at .*connection refused/),
      },
    ]);
    expect(lines.some((l) => l.msg === 'Ollama connection could not be listed' && l.url === downUrl)).toBe(
      true,
    );
  });

  it('answers 502 with the cause when no connection can be listed', async () => {
    use([downUrl]);
    const res = await fetch(`${app.url}/ollama/api/tags`, { headers });
    expect(res.status).toBe(502);
    expect((await res.json()).detail).toMatch(/^Ollama unreachable at /);
  });

  it('routes a chat to a connection that has the model, with its API key', async () => {
    use([a.url, b.url]);
    expect((await chatTo('qwen2.5:7b')).status).toBe(200);
    const onB = b.requests.filter((r) => r.path === '/api/chat');
    expect(onB).toHaveLength(1);
    expect(onB[0]?.headers.authorization).toBe('Bearer b-secret');
    expect(a.requests.some((r) => r.path === '/api/chat')).toBe(false);

    expect((await chatTo('llama3.2')).status).toBe(200);
    expect(a.requests.find((r) => r.path === '/api/chat')?.body).toMatchObject({ model: 'llama3.2:latest' });
  });

  it('spreads a model hosted twice over both connections', async () => {
    use([a.url, b.url]);
    const before = [a, b].map((f) => f.requests.filter((r) => r.path === '/api/generate').length);
    for (let i = 0; i < 4; i++) {
      await fetch(`${app.url}/ollama/api/generate`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'shared', prompt: 'x', stream: false }),
      });
    }
    const after = [a, b].map((f) => f.requests.filter((r) => r.path === '/api/generate').length);
    expect(after[0]! - before[0]!).toBe(2);
    expect(after[1]! - before[1]!).toBe(2);
  });

  it('unknown models are a 404 naming the model', async () => {
    use([a.url, b.url]);
    const res = await chatTo('nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "Model 'nope' was not found" });
  });

  it('url_idx targets one connection; an index with no connection is 404, one that is not an index 400', async () => {
    use([a.url, b.url]);
    const tags = await (await fetch(`${app.url}/ollama/api/tags/1`, { headers })).json();
    expect(tags.models.map((m: { name: string }) => m.name).sort()).toEqual(['qwen2.5:7b', 'shared:latest']);

    const out = await fetch(`${app.url}/ollama/api/tags/7`, { headers });
    expect(out.status).toBe(404);
    expect((await out.json()).detail).toBe(
      'url_idx 7 is out of range: 2 Ollama connection(s) are configured (0..1)',
    );
    const junk = await fetch(`${app.url}/ollama/api/version/abc`);
    expect(junk.status).toBe(400);

    const chat = await chatTo('shared', '/api/chat/1');
    expect(chat.status).toBe(200);
  });

  it('/api/version is the lowest version across connections', async () => {
    use([a.url, b.url]);
    const res = await fetch(`${app.url}/ollama/api/version`);
    expect(await res.json()).toEqual({ version: '0.5.12' });
    expect(await (await fetch(`${app.url}/ollama/api/version/0`)).json()).toEqual({ version: '0.6.5' });
  });

  it('/api/version hides upstream details from anonymous callers when all are down', async () => {
    use([downUrl]);
    const res = await fetch(`${app.url}/ollama/api/version`);
    expect(res.status).toBe(502);
    expect((await res.json()).detail).not.toContain(downUrl);
  });

  it('GET and HEAD /ollama answer the status without a session', async () => {
    use([downUrl]);
    expect(await (await fetch(`${app.url}/ollama`)).json()).toEqual({ status: true });
    expect((await fetch(`${app.url}/ollama`, { method: 'HEAD' })).status).toBe(200);
  });

  it('/v1/models lists the merged models the OpenAI way', async () => {
    use([a.url, b.url]);
    const body = await (await fetch(`${app.url}/ollama/v1/models`, { headers })).json();
    expect(body.object).toBe('list');
    expect(body.data.map((m: { id: string }) => m.id).sort()).toEqual([
      'llama3.2:latest',
      'qwen2.5:7b',
      'shared:latest',
    ]);
  });

  it('reads the connection list on every request', async () => {
    use([a.url]);
    expect((await chatTo('qwen2.5:7b')).status).toBe(404);
    use([a.url, b.url]);
    expect((await chatTo('qwen2.5:7b')).status).toBe(200);
  });

  it('a model pulled a moment ago is found by refreshing the list once', async () => {
    use([a.url, b.url]);
    expect((await chatTo('llama3.2')).status).toBe(200); // warms the cache
    await fetch(`${b.url}/api/pull`, {
      method: 'POST',
      headers: { authorization: 'Bearer b-secret' },
      body: JSON.stringify({ model: 'fresh', stream: false }),
    });
    expect((await chatTo('fresh')).status).toBe(200);
  });

  it('ENABLE_OLLAMA_API=false: 503 on proxied routes, settings stay reachable', async () => {
    use([a.url], { enableOllamaApi: false });
    const res = await fetch(`${app.url}/ollama/api/tags`, { headers });
    expect(res.status).toBe(503);
    expect((await res.json()).detail).toMatch(/ENABLE_OLLAMA_API=false/);
    expect((await fetch(`${app.url}/ollama/api/version`)).status).toBe(503);
    const cfg = await fetch(`${app.url}/ollama/config`, { headers: { [ROLE_HEADER]: 'admin' } });
    expect(cfg.status).toBe(200);
  });

  it('delete and copy answer true and go to the connection that has the model', async () => {
    use([a.url, b.url]);
    const admin = { ...headers, [ROLE_HEADER]: 'admin' };
    const copy = await fetch(`${app.url}/ollama/api/copy`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ source: 'qwen2.5:7b', destination: 'qwen-copy' }),
    });
    expect(await copy.json()).toBe(true);
    expect(b.modelNames()).toContain('qwen-copy:latest');
    const del = await fetch(`${app.url}/ollama/api/delete`, {
      method: 'DELETE',
      headers: admin,
      body: JSON.stringify({ name: 'qwen-copy:latest' }),
    });
    expect(await del.json()).toBe(true);
    expect(b.modelNames()).not.toContain('qwen-copy:latest');
    const missing = await fetch(`${app.url}/ollama/api/delete/0`, {
      method: 'DELETE',
      headers: admin,
      body: JSON.stringify({ name: 'ghost' }),
    });
    expect(missing.status).toBe(404);
  });

  it('unload empties the model from every connection that has it, and only those', async () => {
    use([a.url, b.url]);
    const admin = { ...headers, [ROLE_HEADER]: 'admin' };
    // Load "shared" on both connections, then unload it by its bare name.
    await chatTo('shared', '/api/chat/0');
    await chatTo('shared', '/api/chat/1');
    const before = { a: a.requests.length, b: b.requests.length };
    const res = await fetch(`${app.url}/ollama/api/unload`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ model: 'shared' }),
    });
    expect(await res.json()).toEqual({ status: true });
    for (const fake of [a, b]) {
      const unloads = fake.requests
        .slice(fake === a ? before.a : before.b)
        .filter((r) => r.path === '/api/generate');
      expect(unloads.map((r) => r.body)).toEqual([{ model: 'shared:latest', keep_alive: 0, prompt: '' }]);
    }
    // b requires its key; the unload carried it.
    expect(b.requests.at(-1)?.headers.authorization).toBe('Bearer b-secret');
    const ps = await fetch(`${a.url}/api/ps`).then(
      (r) => r.json() as Promise<{ models: { name: string }[] }>,
    );
    expect(ps.models.map((m) => m.name)).not.toContain('shared:latest');
    // A model only a has: b is not asked.
    const bCount = b.requests.length;
    await fetch(`${app.url}/ollama/api/unload`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'llama3.2' }),
    });
    expect(b.requests.slice(bCount).some((r) => r.path === '/api/generate')).toBe(false);
    const ghost = await fetch(`${app.url}/ollama/api/unload`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ model: 'ghost' }),
    });
    expect(ghost.status).toBe(404);
    const user = await fetch(`${app.url}/ollama/api/unload`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'shared' }),
    });
    expect(user.status).toBe(403);
  });
});

describe("per-connection model settings (Open WebUI's prefix_id, model_ids, tags)", () => {
  const names = async () => {
    const r = await fetch(`${app.url}/ollama/api/tags`, { headers });
    return (
      (await r.json()) as {
        models: { model: string; urls: number[]; tags?: unknown; connection_type?: string }[];
      }
    ).models;
  };

  it("prefix_id renames a connection's models, and requests reach it without the prefix", async () => {
    use([a.url, b.url], {
      ollamaApiConfigs: {
        '1': { key: 'b-secret', prefix_id: 'gpu', tags: [{ name: 'fast' }], connection_type: 'external' },
      },
    });
    const models = await names();
    const listed = models.map((m) => m.model);
    expect(listed).toEqual(
      expect.arrayContaining(['gpu.qwen2.5:7b', 'gpu.shared:latest', 'llama3.2:latest', 'shared:latest']),
    );
    // Every model of connection 1 carries the prefix; none of its names appears bare.
    expect(models.filter((m) => m.urls.includes(1)).every((m) => m.model.startsWith('gpu.'))).toBe(true);
    expect(listed).not.toContain('qwen2.5:7b');
    expect(models.find((m) => m.model === 'gpu.shared:latest')).toMatchObject({
      urls: [1],
      tags: [{ name: 'fast' }],
      connection_type: 'external',
    });
    expect(models.find((m) => m.model === 'shared:latest')?.urls).toEqual([0]);
    const before = b.requests.length;
    const res = await chatTo('gpu.qwen2.5:7b');
    expect(res.status).toBe(200);
    const sent = b.requests.slice(before).find((r) => r.path === '/api/chat');
    expect(sent?.body).toMatchObject({ model: 'qwen2.5:7b' });
    // The bare name without the prefix is no model of this WebUI any more.
    expect((await chatTo('qwen2.5:7b')).status).toBe(404);
    const ps = (await (await fetch(`${app.url}/ollama/api/ps`, { headers })).json()) as {
      models: { model: string }[];
    };
    expect(ps.models.map((m) => m.model)).toContain('gpu.qwen2.5:7b');
  });

  it('model_ids limits what a connection lists and serves, also when it is the only one', async () => {
    use([a.url, b.url], { ollamaApiConfigs: { '0': { model_ids: ['llama3.2'] }, '1': { key: 'b-secret' } } });
    const models = await names();
    expect(models.find((m) => m.model === 'shared:latest')?.urls).toEqual([1]);
    expect(models.some((m) => m.model === 'llama3.2:latest')).toBe(true);
    const before = a.requests.length;
    expect((await chatTo('shared')).status).toBe(200);
    expect(a.requests.slice(before).some((r) => r.path === '/api/chat')).toBe(false);

    use([a.url], { ollamaApiConfigs: { '0': { model_ids: ['llama3.2:latest'] } } });
    expect((await names()).map((m) => m.model)).toEqual(['llama3.2:latest']);
    const count = a.requests.length;
    const refused = await chatTo('shared');
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { detail: string }).detail).toBe("Model 'shared' was not found");
    expect(a.requests.slice(count).some((r) => r.path === '/api/chat')).toBe(false);
  });

  it('admin model operations on a prefixed model use the upstream name', async () => {
    use([a.url, b.url], { ollamaApiConfigs: { '1': { key: 'b-secret', prefix_id: 'gpu' } } });
    const admin = { ...headers, [ROLE_HEADER]: 'admin' };
    const copy = await fetch(`${app.url}/ollama/api/copy`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ source: 'gpu.qwen2.5:7b', destination: 'gpu.qwen-copy' }),
    });
    expect(await copy.json()).toBe(true);
    expect(b.modelNames()).toContain('qwen-copy:latest');
    const before = b.requests.length;
    const unload = await fetch(`${app.url}/ollama/api/unload`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ model: 'gpu.qwen-copy' }),
    });
    expect(unload.status).toBe(200);
    expect(b.requests.slice(before).find((r) => r.path === '/api/generate')?.body).toEqual({
      model: 'qwen-copy:latest',
      keep_alive: 0,
      prompt: '',
    });
    const del = await fetch(`${app.url}/ollama/api/delete`, {
      method: 'DELETE',
      headers: admin,
      body: JSON.stringify({ model: 'gpu.qwen-copy:latest' }),
    });
    expect(await del.json()).toBe(true);
    expect(b.modelNames()).not.toContain('qwen-copy:latest');
  });
});

describe('model names and versions', () => {
  it('normalises bare names to :latest', () => {
    expect(normalizeModelName('llama3.2')).toBe('llama3.2:latest');
    expect(normalizeModelName('llama3.2:1b')).toBe('llama3.2:1b');
    expect(normalizeModelName('registry:5000/team/model')).toBe('registry:5000/team/model:latest');
  });

  it('merges by normalised name, first entry wins', () => {
    const merged = mergeTags([
      { idx: 0, models: [{ name: 'm', model: 'm', size: 1 }] },
      { idx: 1, models: [{ name: 'm:latest', model: 'm:latest', size: 2 }, { bogus: true }] },
    ]);
    expect(merged).toEqual([{ name: 'm', model: 'm', size: 1, urls: [0, 1] }]);
  });

  it('compares versions numerically', () => {
    expect(['0.12.0', '0.6.5', '0.5.12'].sort(compareVersions)).toEqual(['0.5.12', '0.6.5', '0.12.0']);
  });
});
