import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError, messageOf } from '../api.ts';
import { type ChatTurn, type StreamEnd, streamChat } from '../chat-stream.ts';
import {
  type ChatMessage,
  type ChatSummary,
  createChat,
  deleteChat,
  fetchChat,
  listChats,
  renameChat,
  updateChat,
} from '../chats-api.ts';
import { chatHref } from '../routes.ts';
import type { ModelChoice } from './model-choice.ts';

/**
 * One conversation on screen and the history beside it. Answers stream from
 * /ollama/api/chat into the last message; stop() aborts the fetch (the server
 * then aborts Ollama's request); the chat is saved after each answer.
 */
export class ChatSession implements ReactiveController {
  messages: ChatMessage[] = [];
  /** The history list. */
  chats: ChatSummary[] = [];
  /** An answer is arriving. */
  streaming = false;
  /** The last thing that went wrong outside an answer (loading, saving, renaming ...), or ''. */
  notice = '';

  readonly #host: ReactiveControllerHost;
  readonly #models: ModelChoice;
  /** The chat whose messages are on screen (null: a new one); a route change sets it through open(). */
  #chatId: string | null = null;
  #answer: AbortController | null = null;
  /** Bumped whenever the screen switches chats, so a late answer is not saved into the wrong one. */
  #generation = 0;

  constructor(host: ReactiveControllerHost, models: ModelChoice) {
    this.#host = host;
    this.#models = models;
    host.addController(this);
  }

  get chatId(): string | null {
    return this.#chatId;
  }

  hostConnected() {
    void this.#loadChats();
  }

  hostDisconnected() {
    this.#answer?.abort();
  }

  /** Shows chat `id` (null: a new, empty one); an answer still arriving for the previous one is stopped. */
  open(id: string | null) {
    this.#answer?.abort();
    this.#generation++;
    this.#chatId = id;
    this.messages = [];
    this.notice = '';
    this.#host.requestUpdate();
    if (id) void this.#load(id);
  }

  /**
   * Sends `text` to the selected model and streams the answer in, then saves
   * the chat. Resolves when the answer has ended: true if this chat is still
   * the one on screen.
   */
  async send(text: string): Promise<boolean> {
    const model = this.#models.selected;
    if (!text || !model || this.streaming) return false;
    const generation = this.#generation;
    const history: ChatTurn[] = this.messages
      .filter((m) => m.status !== 'error')
      .map((m) => ({ role: m.role, content: m.content }));
    history.push({ role: 'user', content: text });
    const answer: ChatMessage = { role: 'assistant', content: '', model, status: 'streaming' };
    this.messages = [...this.messages, { role: 'user', content: text }, answer];
    this.streaming = true;
    this.#host.requestUpdate();
    const controller = new AbortController();
    this.#answer = controller;
    let end: StreamEnd;
    try {
      end = await streamChat(model, history, controller.signal, (delta) => {
        answer.content += delta;
        this.#host.requestUpdate();
      });
    } catch (err) {
      end = { kind: 'cut', reason: messageOf(err) };
      answer.status = 'error';
      answer.reason = messageOf(err);
      if (err instanceof ApiError && err.status === 502) void this.#models.load();
    }
    if (answer.status === 'streaming') {
      answer.status = end.kind;
      if (end.kind === 'cut') answer.reason = end.reason;
    }
    this.#answer = null;
    this.streaming = false;
    this.#host.requestUpdate();
    if (generation !== this.#generation) return false; // the user switched chats meanwhile
    this.messages = [...this.messages];
    void this.#save(model);
    return true;
  }

  stop() {
    this.#answer?.abort();
  }

  async rename(id: string, title: string) {
    try {
      await renameChat(id, title);
      await this.#loadChats();
    } catch (err) {
      this.#tell(`Could not rename the chat: ${messageOf(err)}`);
    }
  }

  async remove(id: string) {
    try {
      await deleteChat(id);
      this.chats = this.chats.filter((c) => c.id !== id);
      this.#host.requestUpdate();
      if (this.#chatId === id) location.hash = chatHref(null);
    } catch (err) {
      this.#tell(`Could not delete the chat: ${messageOf(err)}`);
    }
  }

  async #load(id: string) {
    try {
      const stored = await fetchChat(id);
      if (this.#chatId !== id) return;
      this.messages = (stored.chat?.messages ?? []).map((m) =>
        m.status === 'streaming'
          ? { ...m, status: 'cut', reason: 'The page was closed while answering.' }
          : m,
      );
      this.#host.requestUpdate();
      const used = stored.chat?.models?.[0];
      if (used) this.#models.adopt(used);
    } catch (err) {
      this.#tell(`Could not open this chat: ${messageOf(err)}`);
    }
  }

  async #loadChats() {
    try {
      this.chats = await listChats();
      this.#host.requestUpdate();
    } catch (err) {
      this.#tell(`Could not load your chats: ${messageOf(err)}`);
    }
  }

  async #save(model: string) {
    const messages = this.messages;
    const firstUser = messages.find((m) => m.role === 'user')?.content ?? 'New chat';
    try {
      if (this.#chatId) {
        const id = this.#chatId;
        const current = this.chats.find((c) => c.id === id);
        await updateChat(id, { title: current?.title ?? firstUser.slice(0, 60), models: [model], messages });
      } else {
        const created = await createChat({
          title: firstUser.replace(/\s+/g, ' ').slice(0, 60),
          models: [model],
          messages,
        });
        this.#chatId = created.id;
        // The hash change reaches the shell, which passes the id back down; chatId already matches.
        location.replace(chatHref(created.id));
      }
      await this.#loadChats();
    } catch (err) {
      this.#tell(`The answer was not saved: ${messageOf(err)}`);
    }
  }

  #tell(notice: string) {
    this.notice = notice;
    this.#host.requestUpdate();
  }
}
