import { css, html, LitElement, nothing } from 'lit';
import type { ModelInfo } from '../controllers/model-choice.ts';
import { base } from '../styles.ts';

/** The model drop-down of the chat toolbar. Fires `pick-model` {name} when the person chooses one. */
export class ModelPicker extends LitElement {
  static override properties = {
    models: { attribute: false },
    value: { attribute: false },
    loading: { attribute: false },
  };
  declare models: ModelInfo[];
  declare value: string;
  /** The list is still being fetched (shown instead of "No models"). */
  declare loading: boolean;

  constructor() {
    super();
    this.models = [];
    this.value = '';
    this.loading = false;
  }

  override render() {
    return html`<label for="model" class="sr-only">Model</label>
      <select
        id="model"
        .value=${this.value}
        ?disabled=${this.models.length === 0}
        @change=${this.#change}
      >
        ${this.models.length === 0 ? html`<option value="">${this.loading ? 'Loading models…' : 'No models'}</option>` : nothing}
        ${this.models.map((m) => html`<option value=${m.name} ?selected=${m.name === this.value}>${m.name}</option>`)}
      </select>`;
  }

  #change(e: Event) {
    const name = (e.target as HTMLSelectElement).value;
    this.dispatchEvent(new CustomEvent('pick-model', { detail: { name }, bubbles: true, composed: true }));
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        max-width: 100%;
      }
      select {
        width: auto;
        max-width: 100%;
        min-width: 12rem;
      }
      @media (max-width: 720px) {
        select {
          width: 100%;
          min-width: 0;
        }
      }
    `,
  ];
}

customElements.define('webui-model-picker', ModelPicker);

declare global {
  interface HTMLElementTagNameMap {
    'webui-model-picker': ModelPicker;
  }
}
