import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatSession } from './chat-session.ts';
import { FakeHost, fakeBrowser, json, ndjson } from './fake-browser.ts';
import { ModelChoice } from './model-choice.ts';

const TAGS = { models: [{ name: 'llama3.2:latest' }] };
const stored = (id: string, chat: object) => ({ id, title: 'Stored', chat });

async function session() {
  const host = new FakeHost();
  const models = new ModelChoice(host);
  const chat = new ChatSession(host, models);
  await models.load();
  return { host, models, chat };
}

afterEach(() => vi.unstubAllGlobals());

describe('ChatSession', () => {
  it('streams an answer into the last message, then stores the new chat and moves to its address', async () => {
    const browser = fakeBrowser({
      'GET /ollama/api/tags': () => json(200, TAGS),
      'POST /ollama/api/chat': (init) =>
        ndjson(
          [{ message: { content: 'Hel' } }, { message: { content: 'lo' } }, { done: true }],
          init.signal,
        ),
      'POST /api/v1/chats/new': (_init, body) => json(200, { id: 'c1', ...(body as object) }),
      'GET /api/v1/chats/': () => json(200, [{ id: 'c1', title: 'Say   hello' }]),
    });
    const { host, chat } = await session();
    const before = host.updates;

    expect(await chat.send('Say   hello')).toBe(true);
    expect(chat.streaming).toBe(false);
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Say   hello' },
      { role: 'assistant', content: 'Hello', model: 'llama3.2:latest', status: 'done' },
    ]);
    expect(host.updates - before).toBeGreaterThanOrEqual(3); // sent, each token, done
    await vi.waitFor(() => expect(chat.chats).toHaveLength(1));
    const created = browser.calls.find((c) => c.route === 'POST /api/v1/chats/new');
    expect(created?.body).toMatchObject({
      chat: { title: 'Say hello', models: ['llama3.2:latest'], messages: chat.messages },
    });
    expect(browser.location.replace).toHaveBeenCalledWith('#/c/c1');
    expect(chat.chatId).toBe('c1');
  });

  it('does not save a late answer into the chat the screen moved to', async () => {
    const browser = fakeBrowser({
      'GET /ollama/api/tags': () => json(200, TAGS),
      'POST /ollama/api/chat': (init) => ndjson([{ message: { content: 'Still going' } }], init.signal, true),
      'GET /api/v1/chats/other': () => json(200, stored('other', { messages: [] })),
    });
    const { chat } = await session();
    const sending = chat.send('Long story');
    await vi.waitFor(() => expect(chat.messages[1]?.content).toBe('Still going'));

    chat.open('other');
    expect(await sending).toBe(false);
    expect(chat.messages).toEqual([]);
    expect(browser.calls.map((c) => c.route)).not.toContain('POST /api/v1/chats/new');
  });

  it('marks an answer stored mid-stream as cut, and takes the chat’s model', async () => {
    fakeBrowser({
      'GET /ollama/api/tags': () => json(200, { models: [...TAGS.models, { name: 'qwen3:8b' }] }),
      'GET /api/v1/chats/c2': () =>
        json(
          200,
          stored('c2', {
            models: ['qwen3:8b'],
            messages: [
              { role: 'user', content: 'Hi' },
              { role: 'assistant', content: 'Hal', status: 'streaming' },
            ],
          }),
        ),
    });
    const { models, chat } = await session();
    chat.open('c2');
    await vi.waitFor(() => expect(chat.messages).toHaveLength(2));
    expect(chat.messages[1]).toMatchObject({ status: 'cut', reason: 'The page was closed while answering.' });
    expect(models.selected).toBe('qwen3:8b');
  });

  it('shows an error instead of an answer when Ollama is unreachable, and reloads the model list', async () => {
    let tagCalls = 0;
    fakeBrowser({
      'GET /ollama/api/tags': () => (++tagCalls === 1 ? json(200, TAGS) : json(502, { detail: 'down' })),
      'POST /ollama/api/chat': () => json(502, { detail: 'Ollama unreachable at http://x:11434' }),
    });
    const { models, chat } = await session();
    await chat.send('Hi');
    expect(chat.messages[1]).toMatchObject({
      status: 'error',
      reason: 'Ollama unreachable at http://x:11434',
    });
    await vi.waitFor(() => expect(models.error).toBe('down'));
  });

  it('renames with the whole chat sent back, and deleting the open chat leaves it', async () => {
    const browser = fakeBrowser({
      'GET /api/v1/chats/': () => json(200, [{ id: 'c3', title: 'Old' }]),
      'GET /api/v1/chats/c3': () =>
        json(200, stored('c3', { title: 'Old', messages: [{ role: 'user', content: 'x' }] })),
      'POST /api/v1/chats/c3': () => json(200, {}),
      'DELETE /api/v1/chats/c3': () => json(200, true),
    });
    const { chat } = await session();
    chat.open('c3');
    await chat.rename('c3', 'New');
    expect(browser.calls.find((c) => c.route === 'POST /api/v1/chats/c3')?.body).toEqual({
      chat: { title: 'New', messages: [{ role: 'user', content: 'x' }] },
    });
    await chat.remove('c3');
    expect(chat.chats).toEqual([]);
    expect(browser.location.hash).toBe('#/');
    expect(chat.notice).toBe('');
  });
});
