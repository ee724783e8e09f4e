import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { api, messageOf } from '../api.ts';
import { MANAGED_REASON, managedNames } from '../managed.ts';
import { base } from '../styles.ts';

type AdminConfig = Record<string, unknown> & {
  SOURCES?: Record<string, string>;
  CONFIG_RESET?: { token: string; applied_at: number | string } | null;
  SHOW_ADMIN_DETAILS?: boolean;
  ENABLE_SIGNUP?: boolean;
  DEFAULT_USER_ROLE?: string;
  JWT_EXPIRES_IN?: string;
  WEBUI_URL?: string;
};

/** The fields this form edits and posts back. */
const EDITABLE = [
  'ENABLE_SIGNUP',
  'DEFAULT_USER_ROLE',
  'SHOW_ADMIN_DETAILS',
  'JWT_EXPIRES_IN',
  'WEBUI_URL',
] as const;

/**
 * Admin › Authentication, through /api/v1/auths/admin/config. Settings the
 * deployment manages are shown read-only with the reason, and are left out of
 * the POST so a save never trips the server's 409.
 */
export class SettingsAuth extends LitElement {
  static override properties = {
    config: { state: true },
    managed: { state: true },
    loadError: { state: true },
    saveState: { state: true },
    saveText: { state: true },
  };
  declare config: AdminConfig | null;
  declare managed: Set<string>;
  declare loadError: string;
  declare saveState: '' | 'busy' | 'ok' | 'fail';
  declare saveText: string;

  constructor() {
    super();
    this.config = null;
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
      const cfg = await api<AdminConfig>('/api/v1/auths/admin/config');
      this.config = cfg;
      this.managed = managedNames(cfg);
    } catch (err) {
      this.loadError = messageOf(err);
    }
  }

  override render() {
    if (this.loadError) return html`<p class="error" role="alert">${this.loadError}</p>`;
    const c = this.config;
    if (!c) return html`<p class="muted" role="status">Loading…</p>`;
    return html`<form @submit=${this.#save}>
      ${this.#check('ENABLE_SIGNUP', 'Enable New Sign Ups', 'Show the Sign up link and accept new accounts.')}
      ${this.#field(
        'DEFAULT_USER_ROLE',
        'Default role for new users',
        html`<select
          id="DEFAULT_USER_ROLE"
          name="DEFAULT_USER_ROLE"
          ?disabled=${this.managed.has('DEFAULT_USER_ROLE')}
          aria-describedby="DEFAULT_USER_ROLE-hint"
        >
          ${['pending', 'user', 'admin'].map(
            (r) => html`<option value=${r} ?selected=${c.DEFAULT_USER_ROLE === r}>${r}</option>`,
          )}
        </select>`,
        '“pending” users must be approved by an admin before they can chat.',
      )}
      ${this.#check(
        'SHOW_ADMIN_DETAILS',
        'Show admin details to pending users',
        'Pending users see your name and email so they know whom to ask.',
      )}
      ${this.#field(
        'JWT_EXPIRES_IN',
        'Session lifetime',
        html`<input
          id="JWT_EXPIRES_IN"
          name="JWT_EXPIRES_IN"
          .value=${String(c.JWT_EXPIRES_IN ?? '')}
          ?readonly=${this.managed.has('JWT_EXPIRES_IN')}
          aria-describedby="JWT_EXPIRES_IN-hint"
        />`,
        'For example 4w, 12h or 30m; -1 means sessions never expire.',
      )}
      ${this.#field(
        'WEBUI_URL',
        'WebUI URL',
        html`<input
          id="WEBUI_URL"
          name="WEBUI_URL"
          type="url"
          .value=${String(c.WEBUI_URL ?? '')}
          ?readonly=${this.managed.has('WEBUI_URL')}
          aria-describedby="WEBUI_URL-hint"
        />`,
        'The address people use to reach this WebUI.',
      )}
      ${this.#resetInfo()}
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.saveState === 'busy'}>Save</button>
        <span role="status" class=${this.saveState === 'fail' ? 'error inline' : 'ok'}>${this.saveText}</span>
      </div>
    </form>`;
  }

  #resetInfo() {
    const r = this.config?.CONFIG_RESET;
    if (!r) return nothing;
    const when =
      typeof r.applied_at === 'number'
        ? new Date(r.applied_at * (r.applied_at < 1e12 ? 1000 : 1))
        : new Date(r.applied_at);
    return html`<p class="hint">
      Last configuration reset: token <code>${r.token}</code>, applied ${Number.isNaN(when.getTime()) ? String(r.applied_at) : when.toLocaleString()}.
    </p>`;
  }

  #hint(name: string, text: string) {
    const managed = this.managed.has(name);
    return html`<p class="hint ${managed ? 'managed' : ''}" id="${name}-hint">
      ${managed ? html`<span class="badge">Managed</span> ${MANAGED_REASON}` : text}
      ${!managed && this.config?.SOURCES?.[name] === 'env' ? html`<span class="muted">(Currently from the environment.)</span>` : nothing}
    </p>`;
  }

  #field(name: string, label: string, control: TemplateResult, hint: string) {
    return html`<div class="field">
      <label for=${name}>${label}</label>
      ${control} ${this.#hint(name, hint)}
    </div>`;
  }

  #check(name: 'ENABLE_SIGNUP' | 'SHOW_ADMIN_DETAILS', label: string, hint: string) {
    return html`<div class="field">
      <div class="check">
        <input
          id=${name}
          name=${name}
          type="checkbox"
          .checked=${this.config?.[name] === true}
          ?disabled=${this.managed.has(name)}
          aria-describedby="${name}-hint"
        />
        <label for=${name}>${label}</label>
      </div>
      ${this.#hint(name, hint)}
    </div>`;
  }

  async #save(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    // Only this form's fields: the server writes the ones that changed, and managed ones are left out.
    const body: Record<string, unknown> = {};
    for (const name of EDITABLE) {
      if (this.managed.has(name)) continue;
      if (name === 'ENABLE_SIGNUP' || name === 'SHOW_ADMIN_DETAILS') body[name] = data.get(name) === 'on';
      else body[name] = String(data.get(name) ?? '').trim();
    }
    this.saveState = 'busy';
    this.saveText = 'Saving…';
    try {
      const saved = await api<AdminConfig>('/api/v1/auths/admin/config', { body });
      this.config = { ...this.config, ...saved };
      if (managedNames(saved).size) this.managed = managedNames(saved);
      this.saveState = 'ok';
      this.saveText = 'Saved.';
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
        max-width: 36rem;
      }
      select {
        max-width: 16rem;
      }
      .inline {
        margin: 0;
        padding: 0.3rem 0.6rem;
      }
      .badge {
        display: inline-block;
        font-size: 0.75rem;
        font-weight: 700;
        padding: 0.05rem 0.4rem;
        border-radius: 0.3rem;
        background: var(--warn-bg);
        border: 1px solid var(--warn-border);
        color: var(--warn-fg);
      }
    `,
  ];
}

customElements.define('webui-settings-auth', SettingsAuth);

declare global {
  interface HTMLElementTagNameMap {
    'webui-settings-auth': SettingsAuth;
  }
}
