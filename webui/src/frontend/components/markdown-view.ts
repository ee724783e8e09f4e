import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { type Block, type Inline, parseMarkdown } from '../markdown.ts';
import { RenderPace } from '../render-pace.ts';
import { base } from '../styles.ts';

/** Copies text; falls back to a hidden textarea where the Clipboard API is unavailable (plain http). */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/**
 * Renders Markdown through Lit templates only: text is always bound as text,
 * so `<script>` in an answer stays visible characters (see markdown.ts).
 * While an answer streams in, `text` changes on every chunk; RenderPace spaces
 * out the renders once they get costly, so the page stays responsive.
 */
export class MarkdownView extends LitElement {
  static override properties = { text: {}, copied: { state: true } };
  declare text: string;
  declare copied: number;
  readonly #pace = new RenderPace();
  /** A render the pace put off: resolves once it has been requested. */
  #later: Promise<void> | null = null;
  /** The last text parsed and its blocks, so that a Copy click does not parse again. */
  #parsed: { text: string; blocks: Block[] } = { text: '', blocks: [] };

  constructor() {
    super();
    this.text = '';
    this.copied = -1;
  }

  protected override shouldUpdate(changed: PropertyValues<this>): boolean {
    // Only a new text waits; the first render and a Copy click show at once.
    if (!this.hasUpdated || changed.size !== 1 || !changed.has('text')) return true;
    const wait = this.#pace.wait(performance.now());
    if (wait <= 0) return true;
    // The render that runs then shows whatever the text is by that time.
    this.#later ??= new Promise((resolve) =>
      setTimeout(() => {
        this.#later = null;
        this.requestUpdate();
        resolve();
      }, wait),
    );
    return false;
  }

  protected override update(changed: PropertyValues<this>): void {
    const start = performance.now();
    super.update(changed);
    this.#pace.rendered(start, performance.now());
  }

  /** Also waits for a render the pace put off, so `await el.updateComplete` sees the latest text. */
  protected override async getUpdateComplete(): Promise<boolean> {
    const done = await super.getUpdateComplete();
    if (!this.#later) return done;
    await this.#later;
    return this.getUpdateComplete();
  }

  #blocks(): Block[] {
    if (this.#parsed.text !== this.text) this.#parsed = { text: this.text, blocks: parseMarkdown(this.text) };
    return this.#parsed.blocks;
  }

  override render() {
    let codeIndex = 0;
    const blocks = (list: Block[]): TemplateResult[] => list.map((b) => block(b));
    const block = (b: Block): TemplateResult => {
      switch (b.t) {
        case 'p':
          return html`<p>${inline(b.c)}</p>`;
        case 'h':
          // Answers sit under the page's own headings, so model headings start at h3.
          return b.level <= 1
            ? html`<h3>${inline(b.c)}</h3>`
            : b.level === 2
              ? html`<h4>${inline(b.c)}</h4>`
              : html`<h5>${inline(b.c)}</h5>`;
        case 'code': {
          const idx = codeIndex++;
          return html`<div class="code">
            <div class="bar">
              <span>${b.lang || 'code'}</span>
              <button type="button" class="copy" aria-label="Copy code" @click=${() => this.#copy(b.v, idx)}>
                ${this.copied === idx ? 'Copied' : 'Copy'}
              </button>
            </div>
            <pre><code>${b.v}</code></pre>
          </div>`;
        }
        case 'list':
          return b.ordered
            ? html`<ol start=${b.start}>${b.items.map((it) => html`<li>${inline(it)}</li>`)}</ol>`
            : html`<ul>${b.items.map((it) => html`<li>${inline(it)}</li>`)}</ul>`;
        case 'quote':
          return html`<blockquote>${blocks(b.c)}</blockquote>`;
        case 'table': {
          // Classes, not inline styles, so a strict Content-Security-Policy keeps working.
          const align = (i: number) => (b.align[i] ? `align-${b.align[i]}` : nothing);
          return html`<div class="table">
            <table>
              <thead>
                <tr>${b.head.map((c, i) => html`<th scope="col" class=${align(i)}>${inline(c)}</th>`)}</tr>
              </thead>
              <tbody>
                ${b.rows.map((r) => html`<tr>${r.map((c, i) => html`<td class=${align(i)}>${inline(c)}</td>`)}</tr>`)}
              </tbody>
            </table>
          </div>`;
        }
        case 'hr':
          return html`<hr />`;
      }
    };
    const inline = (list: Inline[]): Array<TemplateResult | string | typeof nothing> =>
      list.map((n) => {
        switch (n.t) {
          case 'text':
            return n.v;
          case 'code':
            return html`<code>${n.v}</code>`;
          case 'strong':
            return html`<strong>${inline(n.c)}</strong>`;
          case 'em':
            return html`<em>${inline(n.c)}</em>`;
          case 'link':
            return html`<a href=${n.href} target="_blank" rel="noopener noreferrer nofollow">${inline(n.c)}</a>`;
          case 'br':
            return html`<br />`;
        }
        return nothing;
      });
    return blocks(this.#blocks());
  }

  async #copy(text: string, idx: number) {
    if (await copyText(text)) {
      this.copied = idx;
      setTimeout(() => {
        if (this.copied === idx) this.copied = -1;
      }, 2000);
    }
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        overflow-wrap: anywhere;
      }
      p,
      ul,
      ol,
      blockquote,
      .code,
      .table {
        margin: 0 0 0.6rem;
      }
      /* Wide tables scroll inside the answer instead of widening the page. */
      .table {
        overflow-x: auto;
      }
      table {
        border-collapse: collapse;
        font-size: 0.925em;
      }
      th,
      td {
        border: 1px solid var(--border);
        padding: 0.3rem 0.6rem;
        text-align: left;
        vertical-align: top;
        overflow-wrap: normal;
      }
      th {
        background: var(--code-bg);
        font-weight: 600;
      }
      .align-center {
        text-align: center;
      }
      .align-right {
        text-align: right;
      }
      :last-child {
        margin-bottom: 0;
      }
      h3,
      h4,
      h5 {
        margin: 0.75rem 0 0.4rem;
      }
      ul,
      ol {
        padding-left: 1.4rem;
      }
      blockquote {
        border-left: 3px solid var(--border);
        padding-left: 0.75rem;
        color: var(--muted);
      }
      code {
        font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
        font-size: 0.875em;
        background: var(--code-bg);
        border-radius: 0.3rem;
        padding: 0.1rem 0.3rem;
      }
      .code {
        border: 1px solid var(--border);
        border-radius: 0.5rem;
        overflow: hidden;
        background: var(--code-bg);
      }
      .bar {
        display: flex;
        justify-content: space-between;
        align-items: center;
        padding: 0.25rem 0.5rem 0.25rem 0.75rem;
        font-size: 0.8rem;
        color: var(--muted);
        border-bottom: 1px solid var(--border);
      }
      .copy {
        padding: 0.15rem 0.6rem;
        font-size: 0.8rem;
      }
      pre {
        margin: 0;
        padding: 0.75rem;
        overflow-x: auto;
      }
      pre code {
        background: none;
        padding: 0;
        white-space: pre;
      }
    `,
  ];
}

customElements.define('webui-markdown', MarkdownView);

declare global {
  interface HTMLElementTagNameMap {
    'webui-markdown': MarkdownView;
  }
}
