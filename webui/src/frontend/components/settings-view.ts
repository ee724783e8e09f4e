import { css, html, LitElement, nothing } from 'lit';
import type { AppConfig, SessionUser } from '../api.ts';
import { type SettingsSection, settingsHref } from '../routes.ts';
import { base } from '../styles.ts';
import './settings-auth.ts';
import './settings-connections.ts';
import './settings-users.ts';

const LABELS: Record<SettingsSection, string> = {
  connections: 'Connections',
  authentication: 'Authentication',
  users: 'Users',
  account: 'Account',
};

/** Settings with a section list; admins see Connections, Authentication and Users, everyone sees Account. */
export class SettingsView extends LitElement {
  static override properties = {
    user: { attribute: false },
    config: { attribute: false },
    section: {},
  };
  declare user: SessionUser | null;
  declare config: AppConfig | null;
  declare section: SettingsSection;

  constructor() {
    super();
    this.user = null;
    this.config = null;
    this.section = 'account';
  }

  override render() {
    const isAdmin = this.user?.role === 'admin';
    const sections: SettingsSection[] = isAdmin
      ? ['connections', 'authentication', 'users', 'account']
      : ['account'];
    const section = sections.includes(this.section) ? this.section : 'account';
    return html`<div class="settings">
      <nav aria-label="Settings sections">
        <h1 tabindex="-1">Settings</h1>
        <ul>
          ${sections.map(
            (s) =>
              html`<li><a href=${settingsHref(s)} aria-current=${s === section ? 'page' : 'false'}>${LABELS[s]}</a></li>`,
          )}
        </ul>
      </nav>
      <section aria-labelledby="section-title">
        <h2 id="section-title">${LABELS[section]}</h2>
        ${this.#body(section)}
      </section>
    </div>`;
  }

  #body(section: SettingsSection) {
    switch (section) {
      case 'connections':
        return html`<webui-settings-connections></webui-settings-connections>`;
      case 'authentication':
        return html`<webui-settings-auth></webui-settings-auth>`;
      case 'users':
        return html`<webui-settings-users .me=${this.user}></webui-settings-users>`;
      case 'account':
        return html`<dl>
            <dt>Name</dt>
            <dd>${this.user?.name}</dd>
            <dt>Email</dt>
            <dd>${this.user?.email}</dd>
            <dt>Role</dt>
            <dd>${this.user?.role}</dd>
            ${this.config ? html`<dt>Version</dt><dd>${this.config.name} ${this.config.version}</dd>` : nothing}
          </dl>
          <button
            type="button"
            @click=${() => this.dispatchEvent(new CustomEvent('sign-out', { bubbles: true, composed: true }))}
          >
            Sign out
          </button>`;
    }
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        height: 100%;
        overflow-y: auto;
      }
      .settings {
        display: grid;
        grid-template-columns: 13rem 1fr;
        gap: 2rem;
        max-width: 64rem;
        margin: 0 auto;
        padding: 1.5rem 1rem 3rem;
      }
      nav ul {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      nav a {
        display: block;
        padding: 0.45rem 0.7rem;
        border-radius: 0.5rem;
        text-decoration: none;
        color: var(--fg);
      }
      nav a:hover {
        background: var(--hover);
      }
      nav a[aria-current='page'] {
        background: var(--muted-bg);
        font-weight: 600;
      }
      section {
        min-width: 0;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.4rem 1.25rem;
        margin: 0 0 1.5rem;
      }
      dt {
        font-weight: 600;
      }
      dd {
        margin: 0;
      }
      @media (max-width: 720px) {
        .settings {
          grid-template-columns: 1fr;
          gap: 1rem;
        }
        nav ul {
          display: flex;
          flex-wrap: wrap;
          gap: 0.25rem;
        }
      }
    `,
  ];
}

customElements.define('webui-settings', SettingsView);

declare global {
  interface HTMLElementTagNameMap {
    'webui-settings': SettingsView;
  }
}
