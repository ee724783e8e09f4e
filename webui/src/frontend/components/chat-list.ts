import { css, html, LitElement, nothing } from 'lit';
import type { ChatSummary } from '../chats-api.ts';
import { chatHref } from '../routes.ts';
import { base } from '../styles.ts';

const pencil = html`<svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true">
  <path d="M4 20l4-1 11-11-3-3L5 16z M14 7l3 3" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
</svg>`;
const bin = html`<svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true">
  <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
</svg>`;

/**
 * The history sidebar. Stateless about chats (they come down as a property);
 * rename and delete go up as `rename-chat` {id, title} and `delete-chat` {id}.
 * Rename is inline (Enter saves, Escape cancels); delete asks inline, no dialog.
 */
export class ChatList extends LitElement {
  static override properties = {
    chats: { attribute: false },
    activeId: { attribute: false },
    editing: { state: true },
    confirming: { state: true },
  };
  declare chats: ChatSummary[];
  declare activeId: string | null;
  declare editing: string | null;
  declare confirming: string | null;

  constructor() {
    super();
    this.chats = [];
    this.activeId = null;
    this.editing = null;
    this.confirming = null;
  }

  override render() {
    return html`<nav aria-label="Chat history">
      <a class="new" href=${chatHref(null)} @click=${() => this.#emit('new-chat', {})}>+ New chat</a>
      ${this.chats.length === 0 ? html`<p class="muted empty">No chats yet.</p>` : nothing}
      <ul>
        ${this.chats.map((c) => this.#item(c))}
      </ul>
    </nav>`;
  }

  #item(c: ChatSummary) {
    const title = c.title || 'Untitled chat';
    if (this.editing === c.id) {
      return html`<li class="editing">
        <label class="sr-only" for="rename-${c.id}">New title for ${title}</label>
        <input
          id="rename-${c.id}"
          .value=${title}
          @keydown=${(e: KeyboardEvent) => this.#renameKey(e, c)}
          @blur=${(e: FocusEvent) => this.#finishRename(c, (e.target as HTMLInputElement).value)}
        />
      </li>`;
    }
    if (this.confirming === c.id) {
      return html`<li class="confirm" role="group" aria-label="Delete ${title}?">
        <span>Delete “${title}”?</span>
        <div class="row">
          <button type="button" class="danger" @click=${() => this.#delete(c)}>Delete</button>
          <button type="button" @click=${() => this.#cancel(c)}>Cancel</button>
        </div>
      </li>`;
    }
    return html`<li class=${c.id === this.activeId ? 'active' : ''}>
      <a href=${chatHref(c.id)} aria-current=${c.id === this.activeId ? 'page' : 'false'} title=${title}>${title}</a>
      <span class="actions">
        <button type="button" class="icon" aria-label="Rename ${title}" title="Rename" @click=${() => this.#startRename(c)}>${pencil}</button>
        <button type="button" class="icon" aria-label="Delete ${title}" title="Delete" @click=${() => this.#askDelete(c)}>${bin}</button>
      </span>
    </li>`;
  }

  async #startRename(c: ChatSummary) {
    this.editing = c.id;
    await this.updateComplete;
    const input = this.renderRoot.querySelector<HTMLInputElement>(`#rename-${CSS.escape(c.id)}`);
    input?.focus();
    input?.select();
  }

  #renameKey(e: KeyboardEvent, c: ChatSummary) {
    if (e.key === 'Enter') {
      e.preventDefault();
      this.#finishRename(c, (e.target as HTMLInputElement).value);
    } else if (e.key === 'Escape') {
      this.editing = null;
      void this.#focusAction(c.id, 'Rename');
    }
  }

  #finishRename(c: ChatSummary, value: string) {
    if (this.editing !== c.id) return; // blur after Enter/Escape already handled it
    this.editing = null;
    const title = value.trim();
    if (title && title !== c.title) this.#emit('rename-chat', { id: c.id, title });
    void this.#focusAction(c.id, 'Rename');
  }

  async #askDelete(c: ChatSummary) {
    this.confirming = c.id;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLButtonElement>('.confirm button')?.focus();
  }

  #cancel(c: ChatSummary) {
    this.confirming = null;
    void this.#focusAction(c.id, 'Delete');
  }

  #delete(c: ChatSummary) {
    this.confirming = null;
    this.#emit('delete-chat', { id: c.id });
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.new')?.focus());
  }

  async #focusAction(id: string, verb: string) {
    await this.updateComplete;
    const idx = this.chats.findIndex((c) => c.id === id);
    const buttons = this.renderRoot.querySelectorAll('li')[idx]?.querySelectorAll('button');
    for (const b of buttons ?? []) if (b.title === verb) b.focus();
  }

  #emit(name: string, detail: object) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        overflow-y: auto;
        padding: 0.75rem;
      }
      .new {
        display: block;
        text-align: center;
        padding: 0.5rem;
        border: 1px solid var(--border);
        border-radius: 0.5rem;
        text-decoration: none;
        font-weight: 600;
        color: var(--fg);
        background: var(--btn-bg);
        margin-bottom: 0.75rem;
      }
      .new:hover {
        background: var(--hover);
      }
      .empty {
        font-size: 0.9rem;
        padding: 0 0.25rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        align-items: center;
        gap: 0.25rem;
        border-radius: 0.5rem;
        margin-bottom: 0.15rem;
      }
      li.active,
      li:hover {
        background: var(--muted-bg);
      }
      li a {
        flex: 1;
        min-width: 0;
        padding: 0.45rem 0.5rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        text-decoration: none;
        color: var(--fg);
      }
      .actions {
        display: flex;
        opacity: 0.55;
      }
      li:hover .actions,
      li:focus-within .actions,
      li.active .actions {
        opacity: 1;
      }
      .icon {
        border: 0;
        background: none;
        padding: 0.3rem;
        line-height: 0;
        color: var(--muted);
      }
      .icon:hover:not(:disabled) {
        color: var(--fg);
        background: var(--hover);
      }
      li.confirm,
      li.editing {
        flex-direction: column;
        align-items: stretch;
        padding: 0.4rem;
        background: var(--muted-bg);
        gap: 0.4rem;
      }
      .confirm span {
        font-size: 0.9rem;
        overflow-wrap: anywhere;
      }
    `,
  ];
}

customElements.define('webui-chat-list', ChatList);

declare global {
  interface HTMLElementTagNameMap {
    'webui-chat-list': ChatList;
  }
}
