import { css, html, LitElement } from 'lit';
import { base } from '../styles.ts';

/**
 * The message box under a chat, with Send, or Stop while an answer streams.
 * Enter sends, Shift+Enter starts a new line. Fires `send-message` {text}
 * (and clears the box) and `stop-answer`.
 */
export class Composer extends LitElement {
  static override properties = {
    streaming: { attribute: false },
    canSend: { attribute: false },
  };
  /** An answer is arriving: Stop replaces Send, and Enter sends nothing. */
  declare streaming: boolean;
  /** There is a model to send to. */
  declare canSend: boolean;

  constructor() {
    super();
    this.streaming = false;
    this.canSend = false;
  }

  /** Puts the cursor in the message box (after a new chat, an answer or Stop). */
  async focusPrompt() {
    await this.updateComplete;
    this.#prompt?.focus();
  }

  override render() {
    return html`<form class="composer" @submit=${this.#submit}>
      <label for="prompt" class="sr-only">Message</label>
      <span id="prompt-hint" class="sr-only">Enter sends, Shift+Enter starts a new line.</span>
      <textarea
        id="prompt"
        rows="2"
        placeholder="Send a message"
        aria-describedby="prompt-hint"
        @keydown=${this.#key}
      ></textarea>
      ${
        this.streaming
          ? html`<button type="button" class="stop" @click=${this.#stop}>Stop</button>`
          : html`<button type="submit" class="primary" ?disabled=${!this.canSend}>Send</button>`
      }
    </form>`;
  }

  get #prompt(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('#prompt');
  }

  #key(e: KeyboardEvent) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!this.streaming) (e.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  }

  #submit(e: SubmitEvent) {
    e.preventDefault();
    const prompt = this.#prompt;
    const text = prompt?.value.trim() ?? '';
    if (!text || !this.canSend || this.streaming) return;
    if (prompt) prompt.value = '';
    this.dispatchEvent(new CustomEvent('send-message', { detail: { text }, bubbles: true, composed: true }));
  }

  #stop() {
    this.dispatchEvent(new CustomEvent('stop-answer', { bubbles: true, composed: true }));
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
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
    `,
  ];
}

customElements.define('webui-composer', Composer);

declare global {
  interface HTMLElementTagNameMap {
    'webui-composer': Composer;
  }
}
