import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { type AppConfig, api, messageOf, type SessionUser } from '../api.ts';
import { base } from '../styles.ts';

export type AuthMode = 'onboarding' | 'signin' | 'signup';

/**
 * First-run, sign-in and sign-up in one form. The Sign up link follows
 * `features.enable_signup` from /api/config; the server enforces the rule too.
 * Fires `signed-in` with the session user.
 */
export class AuthForm extends LitElement {
  static override properties = {
    config: { attribute: false },
    mode: {},
    notice: {},
    error: { state: true },
    busy: { state: true },
  };
  declare config: AppConfig | null;
  declare mode: AuthMode;
  /** A message from the shell, e.g. that the session ended. */
  declare notice: string;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.config = null;
    this.mode = 'signin';
    this.notice = '';
    this.error = '';
    this.busy = false;
  }

  protected override updated(changed: PropertyValues<this>) {
    if (changed.has('mode') && changed.get('mode') !== undefined) {
      this.error = '';
      this.renderRoot.querySelector<HTMLInputElement>('input')?.focus();
    }
  }

  override render() {
    const name = this.config?.name ?? 'WebUI';
    const signupAllowed = this.config?.features.enable_signup === true;
    const titles: Record<AuthMode, [string, string, string]> = {
      onboarding: [
        `Get started with ${name}`,
        'No account exists yet. The account you create now is the administrator.',
        'Create admin account',
      ],
      signin: [`Sign in to ${name}`, '', 'Sign in'],
      signup: [`Sign up to ${name}`, 'New accounts may need an administrator’s approval.', 'Create account'],
    };
    const [title, intro, action] = titles[this.mode];
    const needsName = this.mode !== 'signin';
    return html`<main class="card">
      <h1 tabindex="-1">${title}</h1>
      ${intro ? html`<p class="muted">${intro}</p>` : nothing}
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
      <form @submit=${this.#submit} novalidate>
        ${
          needsName
            ? html`<div class="field">
              <label for="name">Name</label>
              <input id="name" name="name" autocomplete="name" required />
            </div>`
            : nothing
        }
        <div class="field">
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="email" required />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete=${this.mode === 'signin' ? 'current-password' : 'new-password'}
            aria-describedby=${this.mode === 'signin' ? nothing : 'password-hint'}
            required
          />
          ${this.mode === 'signin' ? nothing : html`<p class="hint" id="password-hint">At least 8 characters.</p>`}
        </div>
        ${this.error ? html`<p class="error" role="alert" id="auth-error">${this.error}</p>` : nothing}
        <button class="primary wide" type="submit" ?disabled=${this.busy}>${this.busy ? 'Please wait…' : action}</button>
      </form>
      ${
        this.mode === 'signin' && signupAllowed
          ? html`<p class="switch">
            Don’t have an account?
            <button type="button" class="link" @click=${() => this.#switch('signup')}>Sign up</button>
          </p>`
          : nothing
      }
      ${
        this.mode === 'signup'
          ? html`<p class="switch">
            Already have an account?
            <button type="button" class="link" @click=${() => this.#switch('signin')}>Sign in</button>
          </p>`
          : nothing
      }
    </main>`;
  }

  #switch(mode: AuthMode) {
    this.mode = mode;
  }

  async #submit(e: SubmitEvent) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const value = (k: string) => String(form.get(k) ?? '').trim();
    const email = value('email');
    const password = String(form.get('password') ?? '');
    const missing = [
      this.mode !== 'signin' && !value('name') ? 'your name' : '',
      !email ? 'your email' : '',
      !password ? 'a password' : '',
    ]
      .filter(Boolean)
      .join(', ');
    if (missing) {
      this.error = `Please enter ${missing}.`;
      return;
    }
    this.busy = true;
    this.error = '';
    try {
      const path = this.mode === 'signin' ? '/api/v1/auths/signin' : '/api/v1/auths/signup';
      const body = this.mode === 'signin' ? { email, password } : { name: value('name'), email, password };
      const user = await api<SessionUser>(path, { body });
      this.dispatchEvent(new CustomEvent('signed-in', { detail: user, bubbles: true, composed: true }));
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        max-width: 26rem;
        margin: 8vh auto 2rem;
        padding: 0 1rem;
      }
      .wide {
        width: 100%;
        padding: 0.65rem;
      }
      .notice {
        background: var(--warn-bg);
        border: 1px solid var(--warn-border);
        border-radius: 0.5rem;
        padding: 0.6rem 0.75rem;
      }
      .switch {
        margin: 1rem 0 0;
        text-align: center;
        color: var(--muted);
      }
    `,
  ];
}

customElements.define('webui-auth', AuthForm);

declare global {
  interface HTMLElementTagNameMap {
    'webui-auth': AuthForm;
  }
}
