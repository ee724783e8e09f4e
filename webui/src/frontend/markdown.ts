/**
 * A small Markdown parser for chat answers. It produces a tree, never HTML:
 * the renderer turns the tree into Lit templates, where every piece of text is
 * a text node, so a model (or a hostile user) cannot inject markup. Links keep
 * only http(s) and mailto targets.
 *
 * Supported: paragraphs with line breaks, ATX headings, fenced code (an
 * unclosed fence is code so far, which matters while streaming), bullet and
 * numbered lists, block quotes, rules, GFM tables (with column alignment),
 * `code`, **strong**, *em*, [links](url) and bare http(s) URLs.
 */

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'br' };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'h'; level: number; c: Inline[] }
  | { t: 'code'; lang: string; v: string }
  | { t: 'list'; ordered: boolean; start: number; items: Inline[][] }
  | { t: 'quote'; c: Block[] }
  | { t: 'table'; align: Align[]; head: Inline[][]; rows: Inline[][][] }
  | { t: 'hr' };

export type Align = 'left' | 'center' | 'right' | null;

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const ITEM = /^ {0,3}([-*+]|(\d{1,9})[.)])\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const DELIMITER_CELL = /^\s*(:?)-+(:?)\s*$/;

/** Splits a table row on `|` that are neither escaped nor inside a code span; outer pipes are optional. */
export function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let code = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (ch === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '`') {
      const run = /^`+/.exec(line.slice(i))?.[0] ?? '`';
      if (code === 0) code = run.length;
      else if (code === run.length) code = 0;
      cell += run;
      i += run.length - 1;
    } else if (ch === '|' && code === 0) {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  const trimmed = line.trim();
  if (trimmed.startsWith('|')) cells.shift();
  if (trimmed.endsWith('|') && !trimmed.endsWith('\\|') && cells.length > 0) cells.pop();
  return cells.map((c) => c.trim());
}

/** The column alignments when `line` is a delimiter row (`| :-- | :-: | --: |`), else null. */
function delimiterRow(line: string): Align[] | null {
  if (!line.includes('-') || !/^[\s|:-]+$/.test(line)) return null;
  const cells = splitRow(line);
  const align: Align[] = [];
  for (const c of cells) {
    const m = DELIMITER_CELL.exec(c);
    if (!m) return null;
    align.push(m[1] && m[2] ? 'center' : m[2] ? 'right' : m[1] ? 'left' : null);
  }
  return align;
}

/** A header row followed by a delimiter row with as many cells starts a table. */
function tableStart(lines: string[], i: number): Align[] | null {
  const head = lines[i] ?? '';
  if (!head.includes('|')) return null;
  const align = delimiterRow(lines[i + 1] ?? '');
  return align && align.length === splitRow(head).length ? align : null;
}

/** Only these link targets survive; `javascript:`, `data:` and the rest become plain text. */
export function safeHref(raw: string): string | null {
  const href = raw.trim();
  return /^(https?:\/\/|mailto:)[^\s]*$/i.test(href) ? href : null;
}

export function parseMarkdown(src: string): Block[] {
  return parseBlocks(src.replace(/\r\n?/g, '\n').split('\n'));
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || ITEM.test(line) || QUOTE.test(line);
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] ?? '```';
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trimStart().startsWith(marker))
        body.push(lines[i++] ?? '');
      i++; // closing fence (or past the end while streaming)
      blocks.push({ t: 'code', lang: fence[2] ?? '', v: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ t: 'h', level: (heading[1] ?? '#').length, c: parseInline(heading[2] ?? '') });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ t: 'hr' });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner: string[] = [];
      for (let m = QUOTE.exec(lines[i] ?? ''); m && i < lines.length; m = QUOTE.exec(lines[i] ?? '')) {
        inner.push(m[1] ?? '');
        i++;
      }
      blocks.push({ t: 'quote', c: parseBlocks(inner) });
      continue;
    }
    const align = tableStart(lines, i);
    if (align) {
      const cells = (l: string) => {
        const row = splitRow(l).slice(0, align.length);
        while (row.length < align.length) row.push('');
        return row.map(parseInline);
      };
      const head = cells(line);
      const rows: Inline[][][] = [];
      i += 2;
      while (
        i < lines.length &&
        (lines[i] ?? '').trim() &&
        (lines[i] ?? '').includes('|') &&
        !startsBlock(lines[i] ?? '')
      )
        rows.push(cells(lines[i++] ?? ''));
      blocks.push({ t: 'table', align, head, rows });
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = item[2] !== undefined;
      const items: string[] = [];
      while (i < lines.length) {
        const l = lines[i] ?? '';
        const m = ITEM.exec(l);
        if (m && (m[2] !== undefined) === ordered) {
          items.push(m[3] ?? '');
        } else if (l.trim() && /^\s{2,}/.test(l) && items.length) {
          items[items.length - 1] += `\n${l.trim()}`;
        } else if (!l.trim() && ITEM.exec(lines[i + 1] ?? '')) {
          // a blank line between items keeps the list going
        } else break;
        i++;
      }
      blocks.push({
        t: 'list',
        ordered,
        start: ordered ? Number(item[2]) : 1,
        items: items.map(parseInline),
      });
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      (lines[i] ?? '').trim() &&
      (para.length === 0 || (!startsBlock(lines[i] ?? '') && !tableStart(lines, i)))
    ) {
      para.push((lines[i] ?? '').trim());
      i++;
    }
    blocks.push({ t: 'p', c: parseInline(para.join('\n')) });
  }
  return blocks;
}

const URL_RE = /^https?:\/\/[^\s<>()"']*[^\s<>()"'.,;:!?]/i;

export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i] ?? '';
    const rest = src.slice(i);
    if (ch === '\\' && i + 1 < src.length && /[\\`*_[\]()#+\-.!>~]/.test(src[i + 1] ?? '')) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      flush();
      out.push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '`') {
      const run = /^`+/.exec(rest)?.[0] ?? '`';
      const end = src.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        out.push({ t: 'code', v: src.slice(i + run.length, end).replace(/^ (.*) $/, '$1') });
        i = end + run.length;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && src[i + 1] === ch && (ch === '*' || !/\w/.test(src[i - 1] ?? ' '))) {
      const end = findStrongEnd(src, i + 2, ch);
      if (end > i + 2) {
        flush();
        out.push({ t: 'strong', c: parseInline(src.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && src[i + 1] && !/\s/.test(src[i + 1] ?? '')) {
      const prev = src[i - 1] ?? ' ';
      if (ch === '*' || !/\w/.test(prev)) {
        const end = findEmphasisEnd(src, i + 1, ch);
        if (end > 0) {
          flush();
          out.push({ t: 'em', c: parseInline(src.slice(i + 1, end)) });
          i = end + 1;
          continue;
        }
      }
    }
    if (ch === '[') {
      const m = /^\[([^\]\n]*)\]\(((?:[^()\s]|\([^()\s]*\))*)(?:\s+"[^"]*")?\)/.exec(rest);
      if (m) {
        flush();
        const href = safeHref(m[2] ?? '');
        const label = parseInline(m[1] ?? '');
        if (href) out.push({ t: 'link', href, c: label });
        else out.push(...label);
        i += m[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && /\w/.test(src[i - 1] ?? ' ') === false) {
      const m = URL_RE.exec(rest);
      if (m) {
        flush();
        out.push({ t: 'link', href: m[0], c: [{ t: 'text', v: m[0] }] });
        i += m[0].length;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

/** Closing `**`/`__`: not after whitespace; `__` also not inside a word (snake__case, window.__x). */
function findStrongEnd(src: string, from: number, ch: string): number {
  for (let j = src.indexOf(ch + ch, from); j > 0; j = src.indexOf(ch + ch, j + 1)) {
    if (/\s/.test(src[j - 1] ?? ' ')) continue;
    if (ch === '_' && /\w/.test(src[j + 2] ?? ' ')) continue;
    return j;
  }
  return -1;
}

function findEmphasisEnd(src: string, from: number, ch: string): number {
  for (let j = from; j < src.length; j++) {
    if (src[j] === '\n') return -1;
    if (src[j] === ch && src[j + 1] !== ch && !/\s/.test(src[j - 1] ?? ' ')) {
      if (ch === '_' && /\w/.test(src[j + 1] ?? ' ')) continue;
      return j;
    }
  }
  return -1;
}
