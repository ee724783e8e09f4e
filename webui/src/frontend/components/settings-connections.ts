import { css, html, LitElement, nothing } from 'lit';
import { api, messageOf } from '../api.ts';
import { MANAGED_REASON, managedNames } from '../managed.ts';
import { base } from '../styles.ts';
import { cleanUrls } from '../urls.ts';

interface OllamaConfig {
  ENABLE_OLLAMA_API: boolean;
  OLLAMA_BASE_URLS: string[];
  OLLAMA_API_CONFIGS?: Record<string, unknown>;
}

interface UrlRow {
  url: string;
  check: '' | 'busy' | 'ok' | 'fail';
  result: string;
  /** This connection's OLLAMA_API_CONFIGS entry (key masked); it moves with the row. */
  config: Record<string, unknown>;
}

const emptyRow = (): UrlRow => ({ url: '', check: '', result: '', config: {} });

/** "a, b ,, c" → ["a", "b", "c"]. */
function modelList(text: string): string[] {
  return text
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
}

/**
 * Admin › Connections: the Ollama server URL(s) (the old "Ollama Server URL"
 * setting), a Verify button per URL (POST /ollama/verify), each connection's
 * prefix and model allow-list, and Save (POST /ollama/config/update).
 */
export class SettingsConnections extends LitElement {
  static override properties = {
    enabled: { state: true },
    rows: { state: true },
    managed: { state: true },
    loadError: { state: true },
    saveState: { state: true },
    saveText: { state: true },
  };
  declare enabled: boolean;
  declare rows: UrlRow[];
  declare managed: Set<string>;
  declare loadError: string;
  declare saveState: '' | 'busy' | 'ok' | 'fail';
  declare saveText: string;

  constructor() {
    super();
    this.enabled = true;
    this.rows = [];
    this.managed = new Set();
    this.loadError = '';
    this.saveState = '';
    this.saveText = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.#load();
  }

  async #load() {
    try {
      const cfg = await api<OllamaConfig>('/ollama/config');
      this.enabled = cfg.ENABLE_OLLAMA_API !== false;
      const configs = cfg.OLLAMA_API_CONFIGS ?? {};
      this.rows = (cfg.OLLAMA_BASE_URLS ?? []).map((url, i) => ({
        ...emptyRow(),
        url,
        config: { ...((configs[String(i)] as Record<string, unknown> | undefined) ?? {}) },
      }));
      if (this.rows.length === 0) this.rows = [emptyRow()];
      this.managed = managedNames(cfg);
      this.loadError = '';
    } catch (err) {
      this.loadError = messageOf(err);
    }
  }

  get #urlsManaged() {
    return this.managed.has('OLLAMA_BASE_URLS') || this.managed.has('OLLAMA_BASE_URL');
  }

  override render() {
    if (this.loadError) return html`<p class="error" role="alert">${this.loadError}</p>`;
    const urlsLocked = this.#urlsManaged;
    const enableLocked = this.managed.has('ENABLE_OLLAMA_API');
    return html`<form @submit=${this.#save}>
      <h3>Ollama API</h3>
      <p class="muted">
        The Ollama servers this WebUI talks to. <code>localhost</code> means the machine the WebUI server runs
        on: inside a container that is the container, so use the host's address or
        <code>host.docker.internal</code>; in Kubernetes use the Ollama Service's name.
      </p>
      <div class="check field">
        <input
          id="enable"
          type="checkbox"
          .checked=${this.enabled}
          ?disabled=${enableLocked}
          aria-describedby=${enableLocked ? 'enable-managed' : nothing}
          @change=${(e: Event) => {
            this.enabled = (e.target as HTMLInputElement).checked;
          }}
        />
        <label for="enable">Enable Ollama API</label>
      </div>
      ${enableLocked ? html`<p class="hint" id="enable-managed">${MANAGED_REASON}</p>` : nothing}
      <fieldset>
        <legend>Ollama server URLs</legend>
        ${this.rows.map((row, i) => this.#row(row, i, urlsLocked))}
        <p class="hint" id="options-hint">
          Prefix ID: list this server's models as <code>prefix.model</code>, to tell apart the same model on two
          servers. Model IDs: comma-separated; only these models are listed and served from this server.
        </p>
        ${urlsLocked ? html`<p class="hint" id="urls-managed">${MANAGED_REASON}</p>` : nothing}
        ${
          urlsLocked
            ? nothing
            : html`<button type="button" class="add" @click=${this.#add}>+ Add another URL</button>`
        }
      </fieldset>
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.saveState === 'busy'}>Save</button>
        <span role="status" class=${this.saveState === 'fail' ? 'error inline' : 'ok'}>${this.saveText}</span>
      </div>
    </form>`;
  }

  #row(row: UrlRow, i: number, locked: boolean) {
    const id = `url-${i}`;
    return html`<div class="url-row">
      <label for=${id}>Ollama server URL ${this.rows.length > 1 ? i + 1 : ''}</label>
      <div class="row nowrap">
        <input
          id=${id}
          type="url"
          placeholder="http://localhost:11434"
          .value=${row.url}
          ?readonly=${locked}
          aria-describedby=${locked ? 'urls-managed' : `${id}-result`}
          @input=${(e: Event) => this.#edit(i, (e.target as HTMLInputElement).value)}
        />
        <button
          type="button"
          aria-label=${`Verify connection to URL ${i + 1}`}
          ?disabled=${row.check === 'busy' || !row.url.trim()}
          @click=${() => this.#verify(i)}
        >
          ${row.check === 'busy' ? 'Verifying…' : 'Verify connection'}
        </button>
        ${
          locked || this.rows.length < 2
            ? nothing
            : html`<button type="button" class="danger" aria-label=${`Remove URL ${i + 1}`} @click=${() => this.#remove(i)}>
              Remove
            </button>`
        }
      </div>
      <p id=${`${id}-result`} class="result ${row.check}" role="status">${row.result}</p>
      <div class="row options">
        <label>
          Prefix ID
          <input
            id=${`${id}-prefix`}
            placeholder="none"
            .value=${typeof row.config.prefix_id === 'string' ? row.config.prefix_id : ''}
            aria-describedby="options-hint"
            @input=${(e: Event) => this.#setConfig(i, 'prefix_id', (e.target as HTMLInputElement).value.trim())}
          />
        </label>
        <label>
          Model IDs
          <input
            id=${`${id}-models`}
            placeholder="all models"
            .value=${Array.isArray(row.config.model_ids) ? row.config.model_ids.join(', ') : ''}
            aria-describedby="options-hint"
            @change=${(e: Event) =>
              this.#setConfig(i, 'model_ids', modelList((e.target as HTMLInputElement).value))}
          />
        </label>
      </div>
    </div>`;
  }

  /** Sets (or, when empty, removes) one field of a connection's settings. */
  #setConfig(i: number, field: 'prefix_id' | 'model_ids', value: string | string[]) {
    this.rows = this.rows.map((r, j) => {
      if (j !== i) return r;
      const config = { ...r.config };
      if (value.length === 0) delete config[field];
      else config[field] = value;
      return { ...r, config };
    });
    this.saveText = '';
  }

  #edit(i: number, url: string) {
    this.rows = this.rows.map((r, j) => (j === i ? { ...r, url, check: '', result: '' } : r));
    this.saveText = '';
  }

  async #add() {
    this.rows = [...this.rows, emptyRow()];
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLInputElement>(`#url-${this.rows.length - 1}`)?.focus();
  }

  async #remove(i: number) {
    this.rows = this.rows.filter((_, j) => j !== i);
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLInputElement>(`#url-${Math.max(0, i - 1)}`)?.focus();
  }

  async #verify(i: number) {
    const url = cleanUrls([this.rows[i]?.url ?? ''])[0];
    if (!url) return;
    const set = (check: UrlRow['check'], result: string) => {
      this.rows = this.rows.map((r, j) => (j === i ? { ...r, check, result } : r));
    };
    set('busy', 'Checking…');
    try {
      const res = await api<{ version?: string }>('/ollama/verify', { body: { url } });
      set('ok', `Connected${res?.version ? `: Ollama ${res.version}` : ''}.`);
    } catch (err) {
      set('fail', `Not reachable: ${messageOf(err)}`);
    }
  }

  async #save(e: SubmitEvent) {
    e.preventDefault();
    // Rows without a URL are dropped; each remaining row's settings go under its new index.
    const kept = this.rows.filter((r) => cleanUrls([r.url]).length > 0);
    const urls = cleanUrls(kept.map((r) => r.url));
    const body: Record<string, unknown> = {};
    if (!this.managed.has('ENABLE_OLLAMA_API')) body.ENABLE_OLLAMA_API = urls.length > 0 && this.enabled;
    if (!this.#urlsManaged) body.OLLAMA_BASE_URLS = urls;
    body.OLLAMA_API_CONFIGS = Object.fromEntries(kept.map((r, i) => [String(i), r.config]));
    this.saveState = 'busy';
    this.saveText = 'Saving…';
    try {
      const saved = await api<OllamaConfig>('/ollama/config/update', { body });
      this.enabled = saved.ENABLE_OLLAMA_API !== false;
      const savedUrls = saved.OLLAMA_BASE_URLS ?? urls;
      const savedConfigs = saved.OLLAMA_API_CONFIGS ?? {};
      this.rows = (savedUrls.length ? savedUrls : ['']).map((url, i) => {
        const old = this.rows.find((r) => cleanUrls([r.url])[0] === url);
        const config = { ...((savedConfigs[String(i)] as Record<string, unknown> | undefined) ?? {}) };
        return old ? { ...old, url, config } : { ...emptyRow(), url, config };
      });
      this.saveState = 'ok';
      this.saveText = urls.length ? 'Saved.' : 'Saved. No URL is set, so the Ollama API is disabled.';
    } catch (err) {
      this.saveState = 'fail';
      this.saveText = messageOf(err);
    }
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        max-width: 44rem;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: 0.75rem;
        padding: 1rem;
        margin: 0 0 1rem;
      }
      legend {
        font-weight: 600;
        padding: 0 0.4rem;
      }
      .url-row {
        margin-bottom: 0.5rem;
      }
      .options {
        margin-top: 0.25rem;
        font-size: 0.9rem;
      }
      .options label {
        display: flex;
        flex-direction: column;
        flex: 1;
        gap: 0.2rem;
      }
      .nowrap {
        flex-wrap: nowrap;
      }
      .nowrap input {
        flex: 1;
        min-width: 0;
      }
      .nowrap button {
        white-space: nowrap;
      }
      .result {
        margin: 0.3rem 0 0;
        min-height: 1.2em;
        font-size: 0.9rem;
        white-space: pre-wrap;
      }
      .result.ok {
        color: var(--ok);
      }
      .result.fail {
        color: var(--danger);
      }
      .inline {
        margin: 0;
        padding: 0.3rem 0.6rem;
      }
      .add {
        margin-top: 0.25rem;
      }
      @media (max-width: 560px) {
        .nowrap {
          flex-wrap: wrap;
        }
        .nowrap input {
          flex-basis: 100%;
        }
      }
    `,
  ];
}

customElements.define('webui-settings-connections', SettingsConnections);

declare global {
  interface HTMLElementTagNameMap {
    'webui-settings-connections': SettingsConnections;
  }
}
