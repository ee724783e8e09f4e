import { css, html, LitElement, nothing } from 'lit';
import { api, type SessionUser } from '../api.ts';
import { base } from '../styles.ts';

interface AdminDetails {
  name: string;
  email: string;
}

/** How often the screen asks, in the background, whether the account was approved. */
export const APPROVAL_CHECK_MS = 5_000;

/**
 * What a `pending` user sees until an admin approves them. The admin's contact
 * shows only when the server shares it (SHOW_ADMIN_DETAILS); a 400 means hidden.
 * Fires `refresh-session` ("Check again"), `sign-out`, and `check-session`
 * every few seconds while the tab is visible (and when it becomes visible), so
 * an approval opens the app without a click.
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

  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #onVisible = () => {
    if (document.visibilityState === 'visible') this.#emit('check-session');
  };

  override connectedCallback() {
    super.connectedCallback();
    this.#timer = setInterval(this.#onVisible, APPROVAL_CHECK_MS);
    document.addEventListener('visibilitychange', this.#onVisible);
    api<AdminDetails>('/api/v1/auths/admin/details')
      .then((d) => {
        this.admin = d?.email ? d : null;
      })
      .catch(() => {
        this.admin = null;
      });
  }

  override disconnectedCallback() {
    clearInterval(this.#timer);
    document.removeEventListener('visibilitychange', this.#onVisible);
    super.disconnectedCallback();
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
