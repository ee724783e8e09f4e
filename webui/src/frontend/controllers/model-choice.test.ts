import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeHost, fakeBrowser, json } from './fake-browser.ts';
import { ModelChoice } from './model-choice.ts';

const TAGS = { models: [{ name: 'llama3.2:latest' }, { name: 'qwen3:8b' }] };

afterEach(() => vi.unstubAllGlobals());

describe('ModelChoice', () => {
  it('loads the models when its host connects and picks the one remembered, else the first', async () => {
    const browser = fakeBrowser({ 'GET /ollama/api/tags': () => json(200, TAGS) });
    const first = new ModelChoice(new FakeHost());
    await first.load();
    expect(first.selected).toBe('llama3.2:latest');
    expect(first.loading).toBe(false);

    first.pick('qwen3:8b');
    expect(browser.stored.get('webui.model')).toBe('qwen3:8b');
    const host = new FakeHost();
    const next = new ModelChoice(host);
    host.connect();
    await vi.waitFor(() => expect(next.loading).toBe(false));
    expect(next.selected).toBe('qwen3:8b');
    expect(host.updates).toBeGreaterThan(0);
  });

  it("keeps the server's reason when Ollama cannot be listed, and each connection that did not answer", async () => {
    fakeBrowser({
      'GET /ollama/api/tags': () => json(502, { detail: 'Ollama unreachable at http://x:11434' }),
    });
    const choice = new ModelChoice(new FakeHost());
    await choice.load();
    expect(choice).toMatchObject({ models: [], selected: '', error: 'Ollama unreachable at http://x:11434' });

    fakeBrowser({
      'GET /ollama/api/tags': () =>
        json(200, { ...TAGS, errors: [{ url: 'http://gpu-2:11434', detail: 'connection refused' }] }),
    });
    await choice.load();
    expect(choice.error).toBe('');
    expect(choice.upstreamErrors).toEqual(['http://gpu-2:11434: connection refused']);
  });

  it("adopts an opened chat's model only while the list loads or when it lists it", async () => {
    fakeBrowser({ 'GET /ollama/api/tags': () => json(200, TAGS) });
    const choice = new ModelChoice(new FakeHost());
    choice.adopt('qwen3:8b'); // still loading: kept, and load() keeps it because it is listed
    await choice.load();
    expect(choice.selected).toBe('qwen3:8b');
    choice.adopt('gone:1b');
    expect(choice.selected).toBe('qwen3:8b');
  });
});
