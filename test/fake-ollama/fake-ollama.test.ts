import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from './fake-ollama.ts';

let fake: FakeOllama;
beforeAll(async () => {
  fake = await startFakeOllama({ slowTokenDelayMs: 60_000, stalledAfterChunks: 1 });
});
afterAll(async () => {
  await fake?.close();
});

const post = (path: string, body: unknown, method = 'POST') =>
  fetch(`${fake.url}${path}`, { method, body: JSON.stringify(body) });
const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

describe('fake Ollama protocol', () => {
  it('lists models and its version like Ollama', async () => {
    expect(await (await fetch(`${fake.url}/api/version`)).json()).toEqual({ version: '0.6.5' });
    const tags = await (await fetch(`${fake.url}/api/tags`)).json();
    const m = tags.models.find((x: { name: string }) => x.name === 'llama3.2:latest');
    expect(m).toMatchObject({
      model: 'llama3.2:latest',
      size: expect.any(Number),
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      details: { format: 'gguf', family: 'llama' },
    });
    expect(await (await fetch(`${fake.url}/v1/models`)).json()).toMatchObject({
      object: 'list',
      data: expect.arrayContaining([
        { id: 'llama3.2:latest', object: 'model', created: expect.any(Number), owned_by: 'library' },
      ]),
    });
  });

  it('streams chat as NDJSON, ending with done and eval stats', async () => {
    const res = await post('/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const out = lines(await res.text());
    expect(out.slice(0, -1).every((l) => l.done === false && l.message.role === 'assistant')).toBe(true);
    expect(out.at(-1)).toMatchObject({
      done: true,
      done_reason: 'stop',
      eval_count: 6,
      message: { content: '' },
    });
  });

  it('streams generate as NDJSON with response tokens and a context', async () => {
    const out = lines(await (await post('/api/generate', { model: 'llama3.2', prompt: 'hi' })).text());
    expect(out.map((l) => l.response).join('')).toBe('Hello from the fake Ollama.');
    expect(out.at(-1)).toMatchObject({ done: true, context: [1, 2, 3] });
  });

  it('answers stream:false with one JSON object', async () => {
    const res = await post('/api/generate', { model: 'llama3.2', prompt: 'hi', stream: false });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ response: 'Hello from the fake Ollama.', done: true });
  });

  it("returns Ollama's error bodies", async () => {
    const missing = await post('/api/chat', { model: 'ghost', messages: [] });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'model "ghost" not found, try pulling it first' });
    const failing = await post('/api/chat', { model: 'failing', messages: [] });
    expect(failing.status).toBe(500);
    expect((await failing.json()).error).toMatch(/llama runner/);
    const noModel = await post('/api/generate', {});
    expect(noModel.status).toBe(400);
    const show = await post('/api/show', { name: 'ghost' });
    expect(await show.json()).toEqual({ error: "model 'ghost' not found" });
    const openai = await post('/v1/chat/completions', { model: 'ghost', messages: [] });
    expect((await openai.json()).error.message).toMatch(/not found/);
  });

  it('slow model: the first token comes at once, the rest wait', async () => {
    const ac = new AbortController();
    const res = await fetch(`${fake.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'slow', messages: [], options: { seed: 1 } }),
      signal: ac.signal,
    });
    const first = await (res.body as ReadableStream<Uint8Array>).getReader().read();
    expect(JSON.parse(new TextDecoder().decode(first.value))).toMatchObject({
      message: { content: 'Hello' },
    });
    const rec = await fake.waitFor((r) => (r.body as { options?: { seed?: number } }).options?.seed === 1);
    expect(rec.finished).toBe(false);
    ac.abort();
    await fake.waitFor((r) => r === rec && r.aborted);
  });

  it('stalled model goes silent after the first chunk; dying model cuts the connection', async () => {
    const ac = new AbortController();
    const res = await fetch(`${fake.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'stalled', prompt: 'stall' }),
      signal: ac.signal,
    });
    await (res.body as ReadableStream<Uint8Array>).getReader().read();
    const rec = await fake.waitFor((r) => (r.body as { prompt?: string }).prompt === 'stall');
    expect(rec.chunksSent).toBe(1);
    ac.abort();

    const dying = await post('/api/generate', { model: 'dying', prompt: 'x' });
    await expect(dying.text()).rejects.toThrow();
  });

  it('streams OpenAI chat completions as SSE and answers non-streaming ones', async () => {
    const sse = await (
      await post('/v1/chat/completions', { model: 'llama3.2', messages: [], stream: true })
    ).text();
    const events = sse.split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse((events[0] as string).slice(6))).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [{ delta: { content: 'Hello' }, finish_reason: null }],
    });
    const one = await (await post('/v1/chat/completions', { model: 'llama3.2', messages: [] })).json();
    expect(one).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { content: 'Hello from the fake Ollama.' } }],
    });
  });

  it('streams OpenAI legacy completions as SSE and answers non-streaming ones', async () => {
    const sse = await (
      await post('/v1/completions', { model: 'llama3.2', prompt: 'Hi', stream: true })
    ).text();
    const events = sse.split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse((events[0] as string).slice(6))).toMatchObject({
      object: 'text_completion',
      choices: [{ text: 'Hello', finish_reason: null }],
    });
    const one = await (await post('/v1/completions', { model: 'llama3.2', prompt: 'Hi' })).json();
    expect(one).toMatchObject({
      object: 'text_completion',
      choices: [{ text: 'Hello from the fake Ollama.' }],
    });
  });

  it('unloads a model on an empty generate with keep_alive 0', async () => {
    await post('/api/generate', { model: 'llama3.2', prompt: 'load me', stream: false });
    const names = async () =>
      ((await (await fetch(`${fake.url}/api/ps`)).json()) as { models: { name: string }[] }).models.map(
        (m) => m.name,
      );
    expect(await names()).toContain('llama3.2:latest');
    const r = await post('/api/generate', { model: 'llama3.2', keep_alive: 0, prompt: '' });
    expect(await r.json()).toMatchObject({ done: true, done_reason: 'unload', response: '' });
    expect(await names()).not.toContain('llama3.2:latest');
    expect((await post('/api/generate', { model: 'nope', keep_alive: 0 })).status).toBe(404);
    // Loaded again for the tests that follow.
    await post('/api/generate', { model: 'llama3.2', prompt: 'reload', stream: false });
  });

  it('pushes a namespaced model with streamed progress, and refuses an unnamespaced one', async () => {
    await post('/api/copy', { source: 'llama3.2', destination: 'me/llama' });
    const pushed = lines(await (await post('/api/push', { model: 'me/llama' })).text());
    expect(pushed[0]).toEqual({ status: 'retrieving manifest' });
    expect(pushed.at(-1)).toEqual({ status: 'success' });
    expect((await post('/api/push', { model: 'llama3.2' })).status).toBe(400);
  });

  it('embeds deterministically', async () => {
    const a = await (await post('/api/embed', { model: 'nomic-embed-text', input: ['x', 'y'] })).json();
    expect(a.embeddings).toHaveLength(2);
    const b = await (await post('/api/embeddings', { model: 'nomic-embed-text', prompt: 'x' })).json();
    expect(b.embedding).toEqual(a.embeddings[0]);
  });

  it('pulls, copies, creates and deletes models', async () => {
    const pull = lines(await (await post('/api/pull', { model: 'phi3' })).text());
    expect(pull[0]).toEqual({ status: 'pulling manifest' });
    expect(pull.at(-1)).toEqual({ status: 'success' });
    expect((await post('/api/copy', { source: 'phi3', destination: 'phi3-copy' })).status).toBe(200);
    const created = lines(await (await post('/api/create', { model: 'mine', from: 'phi3' })).text());
    expect(created.at(-1)).toEqual({ status: 'success' });
    expect(fake.modelNames()).toEqual(
      expect.arrayContaining(['phi3:latest', 'phi3-copy:latest', 'mine:latest']),
    );
    expect((await post('/api/delete', { model: 'phi3-copy' }, 'DELETE')).status).toBe(200);
    expect((await post('/api/delete', { model: 'phi3-copy' }, 'DELETE')).status).toBe(404);
    const loaded = await (await fetch(`${fake.url}/api/ps`)).json();
    expect(loaded.models.map((m: { name: string }) => m.name)).toContain('llama3.2:latest');
  });

  it('records request headers and bodies', async () => {
    await fetch(`${fake.url}/api/show`, {
      method: 'POST',
      headers: { authorization: 'Bearer abc' },
      body: JSON.stringify({ model: 'llama3.2', verbose: true }),
    });
    const rec = fake.requests.findLast((r) => r.path === '/api/show');
    expect(rec).toMatchObject({ method: 'POST', body: { model: 'llama3.2', verbose: true }, finished: true });
    expect(rec?.headers.authorization).toBe('Bearer abc');
  });
});
