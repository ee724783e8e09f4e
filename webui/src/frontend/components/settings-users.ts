import { css, html, LitElement, nothing } from 'lit';
import { api, messageOf, type Role, type SessionUser } from '../api.ts';
import { base } from '../styles.ts';

interface UserRow {
  id: string;
  name: string;
  email: string;
  role: Role;
  created_at?: number;
}

const ROLES: Role[] = ['pending', 'user', 'admin'];

/**
 * Admin › Users: list, approve pending accounts, change roles, delete.
 * Pending users are listed first so approvals are easy to find.
 */
export class SettingsUsers extends LitElement {
  static override properties = {
    me: { attribute: false },
    users: { state: true },
    error: { state: true },
    status: { state: true },
    confirming: { state: true },
  };
  declare me: SessionUser | null;
  declare users: UserRow[] | null;
  declare error: string;
  declare status: string;
  declare confirming: string | null;

  constructor() {
    super();
    this.me = null;
    this.users = null;
    this.error = '';
    this.status = '';
    this.confirming = null;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.#load();
  }

  async #load() {
    try {
      const res = await api<UserRow[] | { users: UserRow[] }>('/api/v1/users/');
      const list = Array.isArray(res) ? res : (res?.users ?? []);
      const rank = (u: UserRow) => (u.role === 'pending' ? 0 : 1);
      this.users = [...list].sort((a, b) => rank(a) - rank(b));
    } catch (err) {
      this.error = messageOf(err);
    }
  }

  override render() {
    if (!this.users) {
      return this.error
        ? html`<p class="error" role="alert">${this.error}</p>`
        : html`<p class="muted" role="status">Loading…</p>`;
    }
    const pending = this.users.filter((u) => u.role === 'pending').length;
    return html`
      <p class="muted">
        ${this.users.length} ${this.users.length === 1 ? 'user' : 'users'}${pending ? html`, <strong>${pending} waiting for approval</strong>` : nothing}.
      </p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <p class="sr-only" role="status">${this.status}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${this.users.map((u) => this.#row(u))}
        </tbody>
      </table>
    `;
  }

  #row(u: UserRow) {
    const self = u.id === this.me?.id;
    return html`<tr data-user=${u.email} class=${u.role === 'pending' ? 'pending' : ''}>
      <td>${u.name}${self ? html` <span class="muted">(you)</span>` : nothing}</td>
      <td class="email">${u.email}</td>
      <td>
        <label class="sr-only" for="role-${u.id}">Role for ${u.email}</label>
        <select
          id="role-${u.id}"
          ?disabled=${self}
          @change=${(e: Event) => this.#setRole(u, (e.target as HTMLSelectElement).value as Role)}
        >
          ${ROLES.map((r) => html`<option value=${r} ?selected=${u.role === r}>${r}</option>`)}
        </select>
      </td>
      <td class="actions">
        ${
          this.confirming === u.id
            ? html`<span class="row" role="group" aria-label="Confirm deleting ${u.email}">
              <button type="button" class="danger" @click=${() => this.#delete(u)}>Confirm delete</button>
              <button type="button" @click=${() => this.#cancel(u)}>Cancel</button>
            </span>`
            : html`<span class="row">
              ${
                u.role === 'pending'
                  ? html`<button type="button" class="primary" aria-label="Approve ${u.email}" @click=${() => this.#setRole(u, 'user')}>
                    Approve
                  </button>`
                  : nothing
              }
              ${
                self
                  ? nothing
                  : html`<button type="button" class="danger" aria-label="Delete ${u.email}" @click=${() => this.#askDelete(u)}>
                    Delete
                  </button>`
              }
            </span>`
        }
      </td>
    </tr>`;
  }

  async #setRole(u: UserRow, role: Role) {
    this.error = '';
    try {
      await api('/api/v1/users/update/role', { body: { id: u.id, role } });
      this.users = (this.users ?? []).map((x) => (x.id === u.id ? { ...x, role } : x));
      this.status = `${u.email} is now ${role}.`;
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLSelectElement>(`#role-${CSS.escape(u.id)}`)?.focus();
    } catch (err) {
      this.error = `Could not change the role of ${u.email}: ${messageOf(err)}`;
      this.requestUpdate(); // puts the select back to the stored role
    }
  }

  async #askDelete(u: UserRow) {
    this.confirming = u.id;
    await this.updateComplete;
    this.renderRoot
      .querySelector<HTMLButtonElement>(`tr[data-user="${CSS.escape(u.email)}"] .danger`)
      ?.focus();
  }

  async #cancel(u: UserRow) {
    this.confirming = null;
    await this.updateComplete;
    this.renderRoot
      .querySelector<HTMLButtonElement>(`tr[data-user="${CSS.escape(u.email)}"] .danger`)
      ?.focus();
  }

  async #delete(u: UserRow) {
    this.confirming = null;
    this.error = '';
    try {
      await api(`/api/v1/users/${encodeURIComponent(u.id)}`, { method: 'DELETE' });
      this.users = (this.users ?? []).filter((x) => x.id !== u.id);
      this.status = `Deleted ${u.email}.`;
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLSelectElement>('tbody select:not(:disabled), tbody button')?.focus();
    } catch (err) {
      this.error = `Could not delete ${u.email}: ${messageOf(err)}`;
    }
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        overflow-x: auto;
      }
      table {
        width: 100%;
        border-collapse: collapse;
      }
      th,
      td {
        text-align: left;
        padding: 0.5rem 0.6rem;
        border-bottom: 1px solid var(--border);
        vertical-align: middle;
      }
      th {
        font-size: 0.85rem;
        color: var(--muted);
      }
      tr.pending {
        background: var(--warn-bg);
      }
      td select {
        width: auto;
        padding: 0.3rem 0.5rem;
      }
      .email {
        overflow-wrap: anywhere;
      }
      .actions .row {
        justify-content: flex-end;
        flex-wrap: nowrap;
      }
      .actions button {
        padding: 0.3rem 0.7rem;
        white-space: nowrap;
      }
      @media (max-width: 600px) {
        thead {
          display: none;
        }
        tr {
          display: grid;
          grid-template-columns: 1fr auto;
          border-bottom: 1px solid var(--border);
          padding: 0.5rem 0;
        }
        td {
          border: 0;
          padding: 0.2rem 0.4rem;
        }
      }
    `,
  ];
}

customElements.define('webui-settings-users', SettingsUsers);

declare global {
  interface HTMLElementTagNameMap {
    'webui-settings-users': SettingsUsers;
  }
}
