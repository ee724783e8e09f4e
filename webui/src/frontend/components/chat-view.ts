import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { SessionUser } from '../api.ts';
import type { ChatMessage } from '../chats-api.ts';
import { ChatSession } from '../controllers/chat-session.ts';
import { ModelChoice } from '../controllers/model-choice.ts';
import { settingsHref } from '../routes.ts';
import { base } from '../styles.ts';
import './chat-list.ts';
import './composer.ts';
import './markdown-view.ts';
import './model-picker.ts';

/**
 * The chat screen: history sidebar (a drawer on phones), model picker,
 * messages, composer and the Ollama banner. The conversation lives in a
 * ChatSession, the model list in a ModelChoice; this element lays them out
 * and passes the children's events to them.
 */
export class ChatView extends LitElement {
  static override properties = {
    user: { attribute: false },
    chatId: { attribute: false },
    historyOpen: { state: true },
  };
  declare user: SessionUser | null;
  /** The chat the route names (null: a new one). */
  declare chatId: string | null;
  declare historyOpen: boolean;

  readonly #models = new ModelChoice(this);
  readonly #session = new ChatSession(this, this.#models);

  constructor() {
    super();
    this.user = null;
    this.chatId = null;
    this.historyOpen = false;
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('chatId') && this.chatId !== this.#session.chatId) {
      this.#session.open(this.chatId);
      this.historyOpen = false;
    }
  }

  override render() {
    const isAdmin = this.user?.role === 'admin';
    const models = this.#models;
    const session = this.#session;
    return html`<div class="layout ${this.historyOpen ? 'history-open' : ''}" @keydown=${this.#layoutKey}>
      <webui-chat-list
        id="history"
        .chats=${session.chats}
        .activeId=${this.chatId}
        @new-chat=${this.#newChat}
        @rename-chat=${(e: CustomEvent<{ id: string; title: string }>) => session.rename(e.detail.id, e.detail.title)}
        @delete-chat=${(e: CustomEvent<{ id: string }>) => session.remove(e.detail.id)}
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
          <webui-model-picker
            .models=${models.models}
            .value=${models.selected}
            .loading=${models.loading}
            @pick-model=${(e: CustomEvent<{ name: string }>) => models.pick(e.detail.name)}
          ></webui-model-picker>
        </div>
        ${this.#banner(isAdmin)}
        ${session.notice ? html`<p class="error" role="alert">${session.notice}</p>` : nothing}
        <div class="messages" role="log" aria-live="polite" aria-label="Messages">
          ${
            session.messages.length === 0
              ? html`<div class="empty"><h1 tabindex="-1">How can I help you today?</h1></div>`
              : session.messages.map((m) => this.#message(m, isAdmin))
          }
        </div>
        <webui-composer
          .streaming=${session.streaming}
          .canSend=${models.selected !== ''}
          @send-message=${this.#send}
          @stop-answer=${() => session.stop()}
        ></webui-composer>
      </section>
    </div>`;
  }

  #banner(isAdmin: boolean) {
    const models = this.#models;
    if (models.error) {
      return html`<div class="error banner" role="alert">
        <strong>Ollama is not reachable.</strong>
        <p class="detail">${models.error}</p>
        <div class="row">
          ${
            isAdmin
              ? html`<a href=${settingsHref('connections')}>Open Connections settings</a>`
              : html`<span>Ask your administrator to check the Ollama connection.</span>`
          }
          <button type="button" @click=${() => models.load()}>Retry</button>
        </div>
      </div>`;
    }
    if (models.upstreamErrors.length) {
      return html`<div class="warn banner" role="status">
        <strong>Some Ollama servers did not answer:</strong>
        <ul>
          ${models.upstreamErrors.map((e) => html`<li>${e}</li>`)}
        </ul>
        ${isAdmin ? html`<a href=${settingsHref('connections')}>Open Connections settings</a>` : nothing}
      </div>`;
    }
    if (!models.loading && models.models.length === 0) {
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

  get #composer() {
    return this.renderRoot.querySelector('webui-composer');
  }

  async #send(e: CustomEvent<{ text: string }>) {
    // Focus returns to the composer for the next message, unless the screen moved to another chat.
    if ((await this.#session.send(e.detail.text)) && this.isConnected) void this.#composer?.focusPrompt();
  }

  #newChat() {
    // The link changes the hash; when it is already "#/" only this resets the screen.
    if (this.chatId === null) this.#session.open(null);
    this.historyOpen = false;
    void this.updateComplete.then(() => this.#composer?.focusPrompt());
  }

  protected override updated() {
    const log = this.renderRoot.querySelector('.messages');
    if (log && this.#session.streaming && log.scrollHeight - log.scrollTop - log.clientHeight < 120) {
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
        webui-model-picker {
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
