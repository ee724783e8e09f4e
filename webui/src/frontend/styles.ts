import { css } from 'lit';

/**
 * Shared look for every component. Colours come from CSS custom properties set
 * on :root in index.html (light and dark through prefers-color-scheme); custom
 * properties inherit into shadow roots, so components only name the roles.
 */
export const base = css`
  :host {
    color: var(--fg);
    font: inherit;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  h1,
  h2,
  h3 {
    margin: 0 0 0.75rem;
    line-height: 1.25;
  }
  h1 {
    font-size: 1.5rem;
  }
  h2 {
    font-size: 1.2rem;
  }
  h3 {
    font-size: 1rem;
  }
  h1:focus,
  h2:focus {
    outline: none;
  }
  p {
    margin: 0 0 0.75rem;
  }
  a {
    color: var(--accent);
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  input:not([type='checkbox']),
  select,
  textarea {
    width: 100%;
    padding: 0.5rem 0.625rem;
    border: 1px solid var(--border);
    border-radius: 0.5rem;
    background: var(--input-bg);
  }
  input:read-only,
  input:disabled,
  select:disabled {
    background: var(--muted-bg);
    color: var(--muted);
  }
  input[type='checkbox'] {
    width: 1.1rem;
    height: 1.1rem;
    accent-color: var(--accent);
  }
  label {
    display: block;
    font-weight: 600;
    font-size: 0.9rem;
    margin-bottom: 0.25rem;
  }
  .field {
    margin-bottom: 1rem;
  }
  .check {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    font-weight: 600;
  }
  .check label {
    margin: 0;
  }
  button {
    cursor: pointer;
    padding: 0.5rem 0.9rem;
    border-radius: 0.5rem;
    border: 1px solid var(--border);
    background: var(--btn-bg);
  }
  button:hover:not(:disabled) {
    background: var(--hover);
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.6;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--on-accent);
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) {
    background: var(--accent-strong);
  }
  button.danger {
    color: var(--danger);
  }
  button.link {
    border: 0;
    background: none;
    padding: 0;
    color: var(--accent);
    text-decoration: underline;
  }
  button.link:hover:not(:disabled) {
    background: none;
  }
  :focus-visible {
    outline: 2px solid var(--accent);
    outline-offset: 2px;
  }
  .error {
    color: var(--danger);
    background: var(--danger-bg);
    border: 1px solid var(--danger-border);
    border-radius: 0.5rem;
    padding: 0.6rem 0.75rem;
    margin: 0 0 1rem;
  }
  .ok {
    color: var(--ok);
  }
  .muted {
    color: var(--muted);
  }
  .hint {
    color: var(--muted);
    font-size: 0.85rem;
    margin-top: 0.25rem;
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 0.75rem;
    padding: 1.5rem;
  }
  .row {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    flex-wrap: wrap;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
