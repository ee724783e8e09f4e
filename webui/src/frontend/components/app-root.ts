import { css, html, LitElement } from 'lit';
import { ApiError, type AppConfig, api, messageOf, SESSION_ENDED, type SessionUser } from '../api.ts';
import { chatHref, parseRoute, type Route, settingsHref } from '../routes.ts';
import { base } from '../styles.ts';
import './auth-form.ts';
import './chat-view.ts';
import './pending-screen.ts';
import './settings-view.ts';

/**
 * The shell: loads /api/config and the session, then shows onboarding,
 * sign-in, the pending screen, or the signed-in app with its hash routes.
 */
export class WebuiApp extends LitElement {
  static override properties = {
    config: { state: true },
    user: { state: true },
    loading: { state: true },
    fatal: { state: true },
    route: { state: true },
    notice: { state: true },
  };
  declare config: AppConfig | null;
  declare user: SessionUser | null;
  declare loading: boolean;
  declare fatal: string;
  declare route: Route;
  /** Why the sign-in screen is showing, when it was not the user's choice. */
  declare notice: string;

  readonly #onHash = () => {
    this.route = parseRoute(location.hash);
  };

  readonly #onSessionEnded = () => {
    if (!this.user) return;
    this.user = null;
    this.notice = 'Your session has ended. Please sign in again.';
    void this.#load();
  };

  constructor() {
    super();
    this.config = null;
    this.user = null;
    this.loading = true;
    this.fatal = '';
    this.route = parseRoute(location.hash);
    this.notice = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    addEventListener('hashchange', this.#onHash);
    addEventListener(SESSION_ENDED, this.#onSessionEnded);
    void this.#load();
  }

  override disconnectedCallback() {
    removeEventListener('hashchange', this.#onHash);
    removeEventListener(SESSION_ENDED, this.#onSessionEnded);
    super.disconnectedCallback();
  }

  async #load() {
    this.loading = true;
    this.fatal = '';
    try {
      // Both in parallel: the first screen waits for the slower of the two, not their sum.
      const [user, config] = await Promise.all([
        api<SessionUser>('/api/v1/auths/').catch((err: unknown) => {
          if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return null;
          throw err;
        }),
        api<AppConfig>('/api/config'),
      ]);
      this.user = user;
      this.config = config;
    } catch (err) {
      this.fatal = messageOf(err);
    } finally {
      this.loading = false;
    }
    this.#focusHeading();
  }

  /** A quiet background check from the pending screen: only a changed role re-renders anything. */
  async #checkApproval() {
    try {
      const user = await api<SessionUser>('/api/v1/auths/');
      if (user && this.user && user.role !== this.user.role) {
        this.user = user;
        this.#focusHeading();
      }
    } catch {
      // A failed background check changes nothing; "Check again" reports errors.
    }
  }

  /** After a screen change, move focus to its heading so keyboard and screen-reader users land there. */
  #focusHeading() {
    void this.updateComplete.then(async () => {
      const child = this.renderRoot.querySelector('main > *, webui-auth, webui-pending') as LitElement | null;
      await child?.updateComplete;
      const heading = child?.renderRoot?.querySelector<HTMLElement>('h1[tabindex]');
      heading?.focus();
    });
  }

  #signedIn(e: CustomEvent<SessionUser>) {
    this.user = e.detail;
    this.notice = '';
    if (location.hash.startsWith('#/settings')) location.hash = chatHref(null);
    void api<AppConfig>('/api/config').then((c) => {
      this.config = c;
    });
    this.#focusHeading();
  }

  async #signOut() {
    try {
      await api('/api/v1/auths/signout', { method: 'POST' });
    } catch {
      // The cookie may already be gone; signing out locally is still right.
    }
    this.user = null;
    history.replaceState(null, '', location.pathname);
    this.route = parseRoute('');
    await this.#load();
  }

  override render() {
    if (this.loading && !this.config) return html`<p class="boot" role="status">Loading…</p>`;
    if (this.fatal) {
      return html`<main class="card center" role="alert">
        <h1 tabindex="-1">Cannot load the WebUI</h1>
        <p>${this.fatal}</p>
        <button class="primary" @click=${() => this.#load()}>Try again</button>
      </main>`;
    }
    if (!this.user) {
      return html`<webui-auth
        .config=${this.config}
        .notice=${this.notice}
        .mode=${this.config?.onboarding ? 'onboarding' : 'signin'}
        @signed-in=${this.#signedIn}
      ></webui-auth>`;
    }
    if (this.user.role === 'pending') {
      return html`<webui-pending
        .user=${this.user}
        @refresh-session=${() => this.#load()}
        @check-session=${() => this.#checkApproval()}
        @sign-out=${() => this.#signOut()}
      ></webui-pending>`;
    }
    const r = this.route;
    return html`<div class="shell">
      <header>
        <a class="brand" href=${chatHref(null)}>${this.config?.name ?? 'WebUI'}</a>
        <nav aria-label="Main">
          <a href=${chatHref(null)} aria-current=${r.view === 'chat' ? 'page' : 'false'}>Chat</a>
          <a href=${settingsHref(this.user.role === 'admin' ? 'connections' : 'account')} aria-current=${r.view === 'settings' ? 'page' : 'false'}>Settings</a>
          <button type="button" @click=${() => this.#signOut()}>Sign out</button>
        </nav>
      </header>
      <main>
        ${
          r.view === 'chat'
            ? html`<webui-chat .user=${this.user} .chatId=${r.chatId}></webui-chat>`
            : html`<webui-settings
              .user=${this.user}
              .config=${this.config}
              .section=${r.section}
              @sign-out=${() => this.#signOut()}
            ></webui-settings>`
        }
      </main>
    </div>`;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        min-height: 100vh;
      }
      .boot {
        padding: 2rem;
        color: var(--muted);
      }
      .center {
        max-width: 32rem;
        margin: 10vh auto;
      }
      .shell {
        display: grid;
        grid-template-rows: auto 1fr;
        height: 100vh;
        height: 100dvh;
      }
      header {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 1rem;
        padding: 0.5rem 1rem;
        border-bottom: 1px solid var(--border);
        background: var(--surface);
      }
      .brand {
        font-weight: 700;
        text-decoration: none;
        color: var(--fg);
      }
      nav {
        display: flex;
        gap: 0.25rem;
        align-items: center;
      }
      nav a {
        padding: 0.4rem 0.7rem;
        border-radius: 0.5rem;
        text-decoration: none;
        color: var(--fg);
      }
      nav a[aria-current='page'] {
        background: var(--muted-bg);
        font-weight: 600;
      }
      nav button {
        margin-left: 0.25rem;
        padding: 0.35rem 0.7rem;
      }
      main {
        min-height: 0;
      }
    `,
  ];
}

customElements.define('webui-app', WebuiApp);

declare global {
  interface HTMLElementTagNameMap {
    'webui-app': WebuiApp;
  }
}
