import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { ApiError, api, messageOf, type SessionUser } from '../api.ts';
import { type ChatTurn, type StreamEnd, streamChat } from '../chat-stream.ts';
import { chatHref, settingsHref } from '../routes.ts';
import { base } from '../styles.ts';
import type { ChatSummary } from './chat-list.ts';
import './chat-list.ts';
import './markdown-view.ts';

export interface ModelInfo {
  name: string;
  model?: string;
}

interface TagsResponse {
  models?: ModelInfo[];
  errors?: unknown[];
}

/** One bubble. `status` is only set on answers; it is saved with the chat so a cut stays marked. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  model?: string;
  status?: 'streaming' | 'done' | 'stopped' | 'cut' | 'error';
  reason?: string;
}

interface StoredChat {
  id: string;
  title?: string;
  chat?: { title?: string; models?: string[]; messages?: ChatMessage[] };
}

const MODEL_KEY = 'webui.model';

/** Open WebUI reports per-upstream failures in `errors`; their shape varies, so read what is there. */
function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const msg = o.detail ?? o.error ?? o.message;
    const url = typeof o.url === 'string' ? `${o.url}: ` : '';
    if (typeof msg === 'string') return url + msg;
  }
  return JSON.stringify(e);
}

/**
 * The chat screen: history sidebar, model picker, messages and composer.
 * Answers stream from /ollama/api/chat; Stop aborts the fetch; chats are saved
 * through /api/v1/chats after each answer.
 */
export class ChatView extends LitElement {
  static override properties = {
    user: { attribute: false },
    chatId: { attribute: false },
    models: { state: true },
    modelsError: { state: true },
    modelsLoading: { state: true },
    upstreamErrors: { state: true },
    model: { state: true },
    messages: { state: true },
    chats: { state: true },
    streaming: { state: true },
    notice: { state: true },
    historyOpen: { state: true },
  };
  declare user: SessionUser | null;
  declare chatId: string | null;
  declare models: ModelInfo[];
  declare modelsError: string;
  declare modelsLoading: boolean;
  declare upstreamErrors: string[];
  declare model: string;
  declare messages: ChatMessage[];
  declare chats: ChatSummary[];
  declare streaming: boolean;
  declare notice: string;
  declare historyOpen: boolean;

  #controller: AbortController | null = null;
  /** The chat whose messages are on screen; differs from chatId while a route change loads. */
  #shownId: string | null = null;
  /** Bumped whenever the screen switches chats, so a late answer is not saved into the wrong one. */
  #generation = 0;

  constructor() {
    super();
    this.user = null;
    this.chatId = null;
    this.models = [];
    this.modelsError = '';
    this.modelsLoading = true;
    this.upstreamErrors = [];
    this.model = '';
    this.messages = [];
    this.chats = [];
    this.streaming = false;
    this.notice = '';
    this.historyOpen = false;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.loadModels();
    void this.#loadChats();
  }

  override disconnectedCallback() {
    this.#controller?.abort();
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('chatId') && this.chatId !== this.#shownId) {
      this.#controller?.abort();
      this.#generation++;
      this.#shownId = this.chatId;
      this.messages = [];
      this.notice = '';
      this.historyOpen = false;
      if (this.chatId) void this.#openChat(this.chatId);
    }
  }

  async loadModels() {
    this.modelsLoading = true;
    this.modelsError = '';
    this.upstreamErrors = [];
    try {
      const tags = await api<TagsResponse>('/ollama/api/tags');
      this.models = tags?.models ?? [];
      this.upstreamErrors = (tags?.errors ?? []).map(errorText);
      const saved = localStorage.getItem(MODEL_KEY) ?? '';
      if (!this.models.some((m) => m.name === this.model)) {
        this.model = this.models.find((m) => m.name === saved)?.name ?? this.models[0]?.name ?? '';
      }
    } catch (err) {
      this.models = [];
      this.modelsError = messageOf(err);
    } finally {
      this.modelsLoading = false;
    }
  }

  async #loadChats() {
    try {
      const list = await api<ChatSummary[]>('/api/v1/chats/');
      this.chats = Array.isArray(list) ? list : [];
    } catch (err) {
      this.notice = `Could not load your chats: ${messageOf(err)}`;
    }
  }

  async #openChat(id: string) {
    try {
      const stored = await api<StoredChat>(`/api/v1/chats/${encodeURIComponent(id)}`);
      if (this.#shownId !== id) return;
      this.messages = (stored.chat?.messages ?? []).map((m) =>
        m.status === 'streaming'
          ? { ...m, status: 'cut', reason: 'The page was closed while answering.' }
          : m,
      );
      const used = stored.chat?.models?.[0];
      // Models may still be loading (a page opened on #/c/<id>): loadModels keeps a model it lists.
      if (used && (this.modelsLoading || this.models.some((m) => m.name === used))) this.model = used;
    } catch (err) {
      this.notice = `Could not open this chat: ${messageOf(err)}`;
    }
  }

  override render() {
    const isAdmin = this.user?.role === 'admin';
    return html`<div class="layout ${this.historyOpen ? 'history-open' : ''}" @keydown=${this.#layoutKey}>
      <webui-chat-list
        id="history"
        .chats=${this.chats}
        .activeId=${this.chatId}
        @new-chat=${this.#newChat}
        @rename-chat=${this.#rename}
        @delete-chat=${this.#delete}
      ></webui-chat-list>
      <section class="chat" aria-label="Chat">
        <div class="toolbar">
          <button
            type="button"
            class="history-toggle"
            aria-controls="history"
            aria-expanded=${this.historyOpen ? 'true' : 'false'}
            @click=${this.#toggleHistory}
          >
            History
          </button>
          <label for="model" class="sr-only">Model</label>
          <select
            id="model"
            .value=${this.model}
            ?disabled=${this.models.length === 0}
            @change=${(e: Event) => this.#pickModel((e.target as HTMLSelectElement).value)}
          >
            ${this.models.length === 0 ? html`<option value="">${this.modelsLoading ? 'Loading models…' : 'No models'}</option>` : nothing}
            ${this.models.map((m) => html`<option value=${m.name} ?selected=${m.name === this.model}>${m.name}</option>`)}
          </select>
        </div>
        ${this.#banner(isAdmin)}
        ${this.notice ? html`<p class="error" role="alert">${this.notice}</p>` : nothing}
        <div class="messages" role="log" aria-live="polite" aria-label="Messages">
          ${
            this.messages.length === 0
              ? html`<div class="empty"><h1 tabindex="-1">How can I help you today?</h1></div>`
              : this.messages.map((m) => this.#message(m, isAdmin))
          }
        </div>
        <form class="composer" @submit=${this.#send}>
          <label for="prompt" class="sr-only">Message</label>
          <span id="prompt-hint" class="sr-only">Enter sends, Shift+Enter starts a new line.</span>
          <textarea
            id="prompt"
            rows="2"
            placeholder="Send a message"
            aria-describedby="prompt-hint"
            @keydown=${this.#composerKey}
          ></textarea>
          ${
            this.streaming
              ? html`<button type="button" class="stop" @click=${this.#stop}>Stop</button>`
              : html`<button type="submit" class="primary" ?disabled=${!this.model}>Send</button>`
          }
        </form>
      </section>
    </div>`;
  }

  #banner(isAdmin: boolean) {
    if (this.modelsError) {
      return html`<div class="error banner" role="alert">
        <strong>Ollama is not reachable.</strong>
        <p class="detail">${this.modelsError}</p>
        <div class="row">
          ${
            isAdmin
              ? html`<a href=${settingsHref('connections')}>Open Connections settings</a>`
              : html`<span>Ask your administrator to check the Ollama connection.</span>`
          }
          <button type="button" @click=${() => this.loadModels()}>Retry</button>
        </div>
      </div>`;
    }
    if (this.upstreamErrors.length) {
      return html`<div class="warn banner" role="status">
        <strong>Some Ollama servers did not answer:</strong>
        <ul>
          ${this.upstreamErrors.map((e) => html`<li>${e}</li>`)}
        </ul>
        ${isAdmin ? html`<a href=${settingsHref('connections')}>Open Connections settings</a>` : nothing}
      </div>`;
    }
    if (!this.modelsLoading && this.models.length === 0) {
      return html`<div class="warn banner" role="status">
        No models are available. Pull one into Ollama (for example <code>ollama pull llama3.2</code>).
        ${isAdmin ? html`<a href=${settingsHref('connections')}>Open Connections settings</a>` : nothing}
      </div>`;
    }
    return nothing;
  }

  #message(m: ChatMessage, isAdmin: boolean) {
    if (m.role === 'user') {
      return html`<article class="msg user" aria-label="You"><div class="bubble">${m.content}</div></article>`;
    }
    return html`<article class="msg assistant" aria-label=${m.model ?? 'Assistant'} data-status=${m.status ?? 'done'}>
      <div class="who">${m.model ?? 'Assistant'}</div>
      ${m.content ? html`<webui-markdown .text=${m.content}></webui-markdown>` : nothing}
      ${m.status === 'streaming' ? html`<p class="typing" role="status">Generating…</p>` : nothing}
      ${m.status === 'stopped' ? html`<p class="note">Stopped.</p>` : nothing}
      ${m.status === 'cut' ? html`<p class="note cut" role="note">Answer cut off: ${m.reason ?? 'unknown reason'}</p>` : nothing}
      ${
        m.status === 'error'
          ? html`<div class="error" role="alert">
            ${m.reason}
            ${isAdmin && m.reason?.includes('Ollama') ? html` <a href=${settingsHref('connections')}>Open Connections settings</a>` : nothing}
          </div>`
          : nothing
      }
    </article>`;
  }

  async #toggleHistory() {
    this.historyOpen = !this.historyOpen;
    if (!this.historyOpen) return;
    // On a phone the history opens as a drawer: move focus into it.
    await this.updateComplete;
    const list = this.renderRoot.querySelector('webui-chat-list');
    await list?.updateComplete;
    list?.renderRoot.querySelector<HTMLElement>('.new')?.focus();
  }

  #layoutKey(e: KeyboardEvent) {
    if (e.key === 'Escape' && this.historyOpen) {
      this.historyOpen = false;
      this.renderRoot.querySelector<HTMLButtonElement>('.history-toggle')?.focus();
    }
  }

  #pickModel(name: string) {
    this.model = name;
    localStorage.setItem(MODEL_KEY, name);
  }

  #composerKey(e: KeyboardEvent) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!this.streaming) (e.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  }

  get #prompt(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('#prompt');
  }

  async #send(e: SubmitEvent) {
    e.preventDefault();
    const prompt = this.#prompt;
    const text = prompt?.value.trim() ?? '';
    if (!text || !this.model || this.streaming) return;
    if (prompt) prompt.value = '';
    const model = this.model;
    const generation = this.#generation;
    const history: ChatTurn[] = this.messages
      .filter((m) => m.status !== 'error')
      .map((m) => ({ role: m.role, content: m.content }));
    history.push({ role: 'user', content: text });
    const answer: ChatMessage = { role: 'assistant', content: '', model, status: 'streaming' };
    this.messages = [...this.messages, { role: 'user', content: text }, answer];
    this.streaming = true;
    const controller = new AbortController();
    this.#controller = controller;
    let end: StreamEnd;
    try {
      end = await streamChat(model, history, controller.signal, (delta) => {
        answer.content += delta;
        this.requestUpdate('messages');
      });
    } catch (err) {
      end = { kind: 'cut', reason: messageOf(err) };
      answer.status = 'error';
      answer.reason = messageOf(err);
      if (err instanceof ApiError && err.status === 502) void this.loadModels();
    }
    if (answer.status === 'streaming') {
      answer.status = end.kind;
      if (end.kind === 'cut') answer.reason = end.reason;
    }
    this.#controller = null;
    this.streaming = false;
    if (generation !== this.#generation) return; // the user switched chats meanwhile
    this.messages = [...this.messages];
    if (this.isConnected) this.#prompt?.focus();
    await this.#save(model);
  }

  #stop() {
    this.#controller?.abort();
  }

  async #save(model: string) {
    const messages = this.messages;
    const firstUser = messages.find((m) => m.role === 'user')?.content ?? 'New chat';
    try {
      if (this.#shownId) {
        const id = this.#shownId;
        const current = this.chats.find((c) => c.id === id);
        await api(`/api/v1/chats/${encodeURIComponent(id)}`, {
          body: { chat: { title: current?.title ?? firstUser.slice(0, 60), models: [model], messages } },
        });
      } else {
        const created = await api<StoredChat>('/api/v1/chats/new', {
          body: { chat: { title: firstUser.replace(/\s+/g, ' ').slice(0, 60), models: [model], messages } },
        });
        this.#shownId = created.id;
        // The hash change reaches the shell, which passes the id back down; #shownId already matches.
        location.replace(chatHref(created.id));
      }
      await this.#loadChats();
    } catch (err) {
      this.notice = `The answer was not saved: ${messageOf(err)}`;
    }
  }

  #newChat() {
    // The link changes the hash; when it is already "#/" only this resets the screen.
    if (this.chatId === null) {
      this.#controller?.abort();
      this.#generation++;
      this.#shownId = null;
      this.messages = [];
      this.notice = '';
    }
    this.historyOpen = false;
    void this.updateComplete.then(() => this.#prompt?.focus());
  }

  async #rename(e: CustomEvent<{ id: string; title: string }>) {
    const { id, title } = e.detail;
    try {
      // Send the whole chat back so a server that replaces (rather than merges) keeps the messages.
      const stored = await api<StoredChat>(`/api/v1/chats/${encodeURIComponent(id)}`);
      await api(`/api/v1/chats/${encodeURIComponent(id)}`, { body: { chat: { ...stored.chat, title } } });
      await this.#loadChats();
    } catch (err) {
      this.notice = `Could not rename the chat: ${messageOf(err)}`;
    }
  }

  async #delete(e: CustomEvent<{ id: string }>) {
    const { id } = e.detail;
    try {
      await api(`/api/v1/chats/${encodeURIComponent(id)}`, { method: 'DELETE' });
      this.chats = this.chats.filter((c) => c.id !== id);
      if (this.#shownId === id) location.hash = chatHref(null);
    } catch (err) {
      this.notice = `Could not delete the chat: ${messageOf(err)}`;
    }
  }

  protected override updated() {
    const log = this.renderRoot.querySelector('.messages');
    if (log && this.streaming && log.scrollHeight - log.scrollTop - log.clientHeight < 120) {
      log.scrollTop = log.scrollHeight;
    }
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        height: 100%;
        min-height: 0;
      }
      .layout {
        display: grid;
        grid-template-columns: 16rem 1fr;
        height: 100%;
      }
      webui-chat-list {
        border-right: 1px solid var(--border);
        background: var(--surface);
        min-height: 0;
      }
      .chat {
        display: flex;
        flex-direction: column;
        min-height: 0;
        min-width: 0;
      }
      .toolbar {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        padding: 0.6rem 1rem;
      }
      .toolbar select {
        width: auto;
        max-width: 100%;
        min-width: 12rem;
      }
      .history-toggle {
        display: none;
      }
      .banner {
        margin: 0 1rem 0.5rem;
      }
      .banner .detail {
        margin: 0.4rem 0;
        white-space: pre-wrap;
      }
      .banner ul {
        margin: 0.4rem 0;
        padding-left: 1.2rem;
      }
      .warn {
        background: var(--warn-bg);
        border: 1px solid var(--warn-border);
        border-radius: 0.5rem;
        padding: 0.6rem 0.75rem;
      }
      .error a {
        color: inherit;
        font-weight: 600;
      }
      .messages {
        flex: 1;
        overflow-y: auto;
        padding: 1rem max(1rem, calc((100% - 48rem) / 2));
      }
      .empty {
        display: grid;
        place-items: center;
        height: 100%;
        color: var(--muted);
      }
      .empty h1 {
        font-weight: 600;
      }
      .msg {
        margin-bottom: 1.25rem;
      }
      .user {
        display: flex;
        justify-content: flex-end;
      }
      .user .bubble {
        background: var(--user-bg);
        padding: 0.6rem 0.9rem;
        border-radius: 1rem;
        max-width: 85%;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .who {
        font-size: 0.8rem;
        font-weight: 600;
        color: var(--muted);
        margin-bottom: 0.25rem;
      }
      .typing {
        color: var(--muted);
        font-size: 0.85rem;
        margin: 0.4rem 0 0;
      }
      .note {
        font-size: 0.85rem;
        color: var(--muted);
        margin: 0.4rem 0 0;
      }
      .cut {
        color: var(--warn-fg);
        background: var(--warn-bg);
        border: 1px solid var(--warn-border);
        border-radius: 0.4rem;
        padding: 0.3rem 0.6rem;
        display: inline-block;
      }
      .composer {
        display: flex;
        gap: 0.5rem;
        align-items: flex-end;
        padding: 0.75rem max(1rem, calc((100% - 48rem) / 2)) 1rem;
        border-top: 1px solid var(--border);
      }
      .composer textarea {
        resize: none;
        min-height: 2.75rem;
        max-height: 12rem;
      }
      .composer button {
        min-width: 5rem;
        height: 2.75rem;
      }
      .stop {
        border-color: var(--danger);
        color: var(--danger);
        font-weight: 600;
      }
      @media (max-width: 720px) {
        .layout {
          grid-template-columns: 1fr;
          position: relative;
        }
        webui-chat-list {
          display: none;
        }
        .toolbar {
          height: 3.5rem;
        }
        .history-open webui-chat-list {
          display: block;
          position: absolute;
          /* below the toolbar, so the History button stays reachable to close it */
          inset: 3.5rem 20% 0 0;
          border-top: 1px solid var(--border);
          z-index: 2;
          box-shadow: 0 0 1.5rem rgb(0 0 0 / 0.25);
        }
        .history-toggle {
          display: inline-block;
        }
        .toolbar select {
          min-width: 0;
          flex: 1;
        }
      }
    `,
  ];
}

customElements.define('webui-chat', ChatView);

declare global {
  interface HTMLElementTagNameMap {
    'webui-chat': ChatView;
  }
}
