import { css, html, LitElement, nothing } from 'lit';
import { api, type SessionUser } from '../api.ts';
import { base } from '../styles.ts';

interface AdminDetails {
  name: string;
  email: string;
}

/**
 * What a `pending` user sees until an admin approves them. The admin's contact
 * shows only when the server shares it (SHOW_ADMIN_DETAILS); a 400 means hidden.
 * Fires `refresh-session` ("Check again") and `sign-out`.
 */
export class PendingScreen extends LitElement {
  static override properties = { user: { attribute: false }, admin: { state: true } };
  declare user: SessionUser | null;
  /** undefined while asking the server, null when it does not share the contact. */
  declare admin: AdminDetails | null | undefined;

  constructor() {
    super();
    this.user = null;
    this.admin = undefined;
  }

  override connectedCallback() {
    super.connectedCallback();
    api<AdminDetails>('/api/v1/auths/admin/details')
      .then((d) => {
        this.admin = d?.email ? d : null;
      })
      .catch(() => {
        this.admin = null;
      });
  }

  override render() {
    return html`<main class="card">
      <h1 tabindex="-1">Account activation pending</h1>
      <p>
        ${this.user ? html`Thanks for signing up, <strong>${this.user.name}</strong>. ` : nothing}Your account is
        waiting for an administrator to approve it. You can chat once it is approved.
      </p>
      ${
        this.admin === undefined
          ? nothing
          : this.admin
            ? html`<p class="contact">
            Administrator: ${this.admin.name}
            (<a href=${`mailto:${this.admin.email}`}>${this.admin.email}</a>)
          </p>`
            : html`<p class="muted">Contact your administrator to get access.</p>`
      }
      <div class="row">
        <button class="primary" type="button" @click=${() => this.#emit('refresh-session')}>Check again</button>
        <button type="button" @click=${() => this.#emit('sign-out')}>Sign out</button>
      </div>
    </main>`;
  }

  #emit(name: string) {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        max-width: 32rem;
        margin: 8vh auto 2rem;
        padding: 0 1rem;
      }
      .contact {
        padding: 0.75rem;
        border-radius: 0.5rem;
        background: var(--muted-bg);
      }
    `,
  ];
}

customElements.define('webui-pending', PendingScreen);

declare global {
  interface HTMLElementTagNameMap {
    'webui-pending': PendingScreen;
  }
}
