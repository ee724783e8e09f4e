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
 *
 * Answers come from a model, which can be steered into writing anything, and
 * each is parsed again as it streams in, so the work is bounded: every scan
 * moves forward only (an unclosed `[`, `*` or backtick costs what it reads,
 * not a search to the end of the text per opener), nesting stops at
 * MAX_NESTING, and table padding has a budget. ParseMeter counts the work.
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

/**
 * How deep quotes may nest, and (separately) strong, em and links: deeper
 * markers stay text. This bounds the recursion (5,000 nested `>` overflowed
 * the stack) and the work, since each level scans its text once.
 */
export const MAX_NESTING = 16;

/**
 * Counts the parser's work: each line it classifies (at its length) and each
 * character its inline scans examine. Tests use it to show that the work grows
 * linearly with the input, without timing anything.
 */
export interface ParseMeter {
  steps: number;
}

/** What one parse carries down: the meter, and how many empty cells tables may still add. */
interface Parse {
  meter: ParseMeter;
  padding: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING_START = /^ {0,3}(#{1,6})(?=\s)/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
// `(?=(\s+))\3` takes the spaces atomically: were `\s+` allowed to give them back, a
// long run of spaces before a character `.` cannot match would backtrack quadratically.
// Giving them back could never help (the rest of the line is the same), so matches are unchanged.
const ITEM = /^ {0,3}([-*+]|(\d{1,9})[.)])(?=(\s+))\3(.*)$/;
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

export function parseMarkdown(src: string, meter: ParseMeter = { steps: 0 }): Block[] {
  // A table may add one empty cell per character of the answer (plus some slack): plenty for
  // short rows in real tables, while `|` rows under a 2,000-column header cannot become millions.
  const parse: Parse = { meter, padding: src.length + 1024 };
  return parseBlocks(src.replace(/\r\n?/g, '\n').split('\n'), 0, parse);
}

const SPACE = /\s/;
const WORD = /\w/;
/** Whitespace; past either end of the text counts as whitespace too. */
const isSpace = (c: string | undefined) => SPACE.test(c ?? ' ');
const isWord = (c: string | undefined) => c !== undefined && WORD.test(c);

/**
 * An ATX heading: `#`s, whitespace, then the text without the closing `#`s and
 * whitespace. Written out rather than as /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/,
 * which backtracked cubically on a heading with thousands of spaces in it; the
 * result is the same (including that `.` stops at U+2028/U+2029).
 */
function heading(line: string): { level: number; text: string } | null {
  const m = HEADING_START.exec(line);
  if (!m) return null;
  let start = m[0].length;
  while (start < line.length && isSpace(line[start])) start++;
  let end = line.length;
  while (end > start && isSpace(line[end - 1])) end--;
  while (end > start && line[end - 1] === '#') end--;
  while (end > start && isSpace(line[end - 1])) end--;
  const text = line.slice(start, end);
  return /[\u2028\u2029]/.test(text) ? null : { level: (m[1] ?? '#').length, text };
}

function startsBlock(line: string, depth: number): boolean {
  return (
    FENCE.test(line) ||
    heading(line) !== null ||
    RULE.test(line) ||
    ITEM.test(line) ||
    (depth < MAX_NESTING && QUOTE.test(line))
  );
}

function parseBlocks(lines: string[], depth: number, parse: Parse): Block[] {
  const { meter } = parse;
  /** Charges a line's classification to the meter and returns it. */
  const at = (i: number): string => {
    const line = lines[i] ?? '';
    meter.steps += line.length + 1;
    return line;
  };
  const inline = (src: string) => parseInlineAt(src, 0, meter);
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = at(i);
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] ?? '```';
      const body: string[] = [];
      i++;
      while (i < lines.length && !at(i).trimStart().startsWith(marker)) body.push(lines[i++] ?? '');
      i++; // closing fence (or past the end while streaming)
      blocks.push({ t: 'code', lang: fence[2] ?? '', v: body.join('\n') });
      continue;
    }
    const h = heading(line);
    if (h) {
      blocks.push({ t: 'h', level: h.level, c: inline(h.text) });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ t: 'hr' });
      i++;
      continue;
    }
    // Beyond MAX_NESTING a `>` line is a paragraph: its remaining `>`s stay text.
    if (depth < MAX_NESTING && QUOTE.test(line)) {
      const inner: string[] = [];
      for (let m = QUOTE.exec(line); m && i < lines.length; m = QUOTE.exec(at(i))) {
        inner.push(m[1] ?? '');
        i++;
      }
      blocks.push({ t: 'quote', c: parseBlocks(inner, depth + 1, parse) });
      continue;
    }
    const align = tableStart(lines, i);
    if (align) {
      const cells = (l: string, pad: boolean) => {
        const row = splitRow(l).slice(0, align.length);
        // Short rows are padded while the budget lasts; after that a row keeps only its own cells.
        const missing = pad ? Math.min(align.length - row.length, parse.padding) : 0;
        parse.padding -= missing;
        for (let k = 0; k < missing; k++) row.push('');
        return row.map(inline);
      };
      const head = cells(line, false);
      const rows: Inline[][][] = [];
      i += 2;
      while (
        i < lines.length &&
        at(i).trim() &&
        (lines[i] ?? '').includes('|') &&
        !startsBlock(lines[i] ?? '', depth)
      )
        rows.push(cells(lines[i++] ?? '', true));
      blocks.push({ t: 'table', align, head, rows });
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = item[2] !== undefined;
      const items: string[] = [];
      while (i < lines.length) {
        const l = at(i);
        const m = ITEM.exec(l);
        if (m && (m[2] !== undefined) === ordered) {
          items.push(m[4] ?? '');
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
        items: items.map(inline),
      });
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      at(i).trim() &&
      (para.length === 0 || (!startsBlock(lines[i] ?? '', depth) && !tableStart(lines, i)))
    ) {
      para.push((lines[i] ?? '').trim());
      i++;
    }
    blocks.push({ t: 'p', c: inline(para.join('\n')) });
  }
  return blocks;
}

/**
 * The first index at or after `from` where `hit` holds, else `len`. Callers ask
 * with a `from` that never decreases (the parse moves forward), so each search
 * resumes where the last one stopped and tests every index once: a thousand
 * unclosed `*` cost one pass over the text, not a thousand.
 */
function seeker(len: number, hit: (j: number) => boolean, meter: ParseMeter): (from: number) => number {
  let at = -1;
  let last = 0;
  return (from) => {
    if (from < last || at < from) {
      at = from;
      while (at < len && !hit(at)) {
        at++;
        meter.steps++;
      }
    }
    last = from;
    return at;
  };
}

/**
 * Where a code span opened by `k` backticks, searched from `from` (just past
 * the opening run), closes: the first later run of at least `k` backticks, as
 * `indexOf` of `k` backticks would find it. Runs are listed once with the
 * longest run from each on, so a run that no later one can close is refused at
 * once instead of by a search to the end.
 */
function backtickCloser(src: string, meter: ParseMeter): (k: number, from: number) => number {
  const starts: number[] = [];
  const lens: number[] = [];
  for (let j = src.indexOf('`'); j >= 0; j = src.indexOf('`', j)) {
    const start = j;
    while (src[j] === '`') j++;
    starts.push(start);
    lens.push(j - start);
  }
  meter.steps += src.length;
  const longestFrom: number[] = [];
  for (let r = starts.length - 1, max = 0; r >= 0; r--) longestFrom[r] = max = Math.max(max, lens[r] ?? 0);
  let r = 0;
  let last = 0;
  return (k, from) => {
    if (from < last) r = 0;
    last = from;
    while (r < starts.length && (starts[r] ?? 0) < from) r++;
    if ((longestFrom[r] ?? 0) < k) return -1;
    let c = r;
    while ((lens[c] ?? 0) < k) {
      c++;
      meter.steps++;
    }
    return starts[c] ?? -1;
  };
}

/**
 * The `(destination "title")` after a link's `]` at `close`, as
 * /\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"]*")?\)/ would match it there: the
 * destination and the index just past the `)`, or null.
 */
function linkTail(src: string, close: number, meter: ParseMeter): { dest: string; end: number } | null {
  const open = close + 1;
  if (src[open] !== '(') return null;
  let j = open + 1;
  for (;;) {
    meter.steps++;
    const c = src[j];
    if (c === undefined || c === ')' || isSpace(c)) break;
    if (c !== '(') {
      j++;
      continue;
    }
    // Only a balanced pair without spaces or other parentheses inside.
    let k = j + 1;
    while (k < src.length && src[k] !== '(' && src[k] !== ')' && !isSpace(src[k])) {
      k++;
      meter.steps++;
    }
    if (src[k] !== ')') break;
    j = k + 1;
  }
  const dest = src.slice(open + 1, j);
  if (src[j] === ')') return { dest, end: j + 1 };
  let k = j;
  while (k < src.length && isSpace(src[k])) {
    k++;
    meter.steps++;
  }
  if (k === j || src[k] !== '"') return null;
  const quote = src.indexOf('"', k + 1);
  meter.steps += (quote < 0 ? src.length : quote) - k;
  return quote >= 0 && src[quote + 1] === ')' ? { dest, end: quote + 2 } : null;
}

const URL_START = /https?:\/\//iy;
const URL_STOP = /[\s<>()"']/;
const URL_TRAIL = /[.,;:!?]/;

/**
 * The end of a bare URL starting at `i`, as /^https?:\/\/[^\s<>()"']*[^\s<>()"'.,;:!?]/i
 * would match it, or -1: up to a space, quote or bracket, without trailing punctuation.
 */
function bareUrlEnd(src: string, i: number, meter: ParseMeter): number {
  URL_START.lastIndex = i;
  if (!URL_START.test(src)) return -1;
  const body = URL_START.lastIndex;
  let j = body;
  while (j < src.length && !URL_STOP.test(src[j] ?? ' ')) j++;
  meter.steps += j - body;
  while (j > body && URL_TRAIL.test(src[j - 1] ?? '')) j--;
  return j > body ? j : -1;
}

export function parseInline(src: string, meter: ParseMeter = { steps: 0 }): Inline[] {
  return parseInlineAt(src, 0, meter);
}

type Marker = '**' | '__' | '*' | '_' | ']';

/** Whether index `j` of `src` ends what `marker` opened. */
function closes(src: string, marker: Marker): (j: number) => boolean {
  const ch = marker[0];
  switch (marker) {
    case '**':
    case '__':
      // Not after whitespace; `__` also not inside a word (snake__case, window.__x).
      return (j) =>
        src[j] === ch && src[j + 1] === ch && !isSpace(src[j - 1]) && (ch === '*' || !isWord(src[j + 2]));
    case '*':
    case '_':
      // A single one, not after whitespace, `_` not before a word; or the line ends first.
      return (j) =>
        src[j] === '\n' ||
        (src[j] === ch && src[j + 1] !== ch && !isSpace(src[j - 1]) && !(ch === '_' && isWord(src[j + 1])));
    case ']':
      // A link label ends at `]` and cannot span lines.
      return (j) => src[j] === ']' || src[j] === '\n';
  }
}

/** Inline content `depth` levels inside strong, em or link labels; at MAX_NESTING their markers stay text. */
function parseInlineAt(src: string, depth: number, meter: ParseMeter): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  const nest = depth < MAX_NESTING;
  const inner = (s: string) => parseInlineAt(s, depth + 1, meter);
  const len = src.length;
  // Built on first use: most inline text has no markers at all.
  const seekers: Record<string, (from: number) => number> = {};
  const closer = (marker: Marker, from: number): number => {
    seekers[marker] ??= seeker(len, closes(src, marker), meter);
    return seekers[marker](from);
  };
  let codeEnd: ((k: number, from: number) => number) | null = null;
  // Openers that share a `]` share its tail; remember the last one (closes only move forward).
  let tail: { close: number; found: ReturnType<typeof linkTail> } = { close: -1, found: null };
  let i = 0;
  while (i < len) {
    meter.steps++;
    const ch = src[i] ?? '';
    if (ch === '\\' && i + 1 < len && /[\\`*_[\]()#+\-.!>~]/.test(src[i + 1] ?? '')) {
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
      let k = 1;
      while (src[i + k] === '`') k++;
      codeEnd ??= backtickCloser(src, meter);
      const end = codeEnd(k, i + k);
      if (end > 0) {
        flush();
        const code = src.slice(i + k, end);
        meter.steps += code.length;
        out.push({ t: 'code', v: code.replace(/^ (.*) $/, '$1') });
        i = end + k;
        continue;
      }
    }
    if (nest && (ch === '*' || ch === '_')) {
      if (src[i + 1] === ch && (ch === '*' || !isWord(src[i - 1]))) {
        const end = closer(ch === '*' ? '**' : '__', i + 2);
        if (end < len && end > i + 2) {
          flush();
          out.push({ t: 'strong', c: inner(src.slice(i + 2, end)) });
          i = end + 2;
          continue;
        }
      }
      if (src[i + 1] && !isSpace(src[i + 1]) && (ch === '*' || !isWord(src[i - 1]))) {
        const end = closer(ch, i + 1);
        if (end < len && src[end] !== '\n') {
          flush();
          out.push({ t: 'em', c: inner(src.slice(i + 1, end)) });
          i = end + 1;
          continue;
        }
      }
    }
    if (nest && ch === '[') {
      const close = closer(']', i + 1);
      if (src[close] === ']') {
        if (tail.close !== close) tail = { close, found: linkTail(src, close, meter) };
        if (tail.found) {
          flush();
          const href = safeHref(tail.found.dest);
          const label = inner(src.slice(i + 1, close));
          if (href) out.push({ t: 'link', href, c: label });
          else out.push(...label);
          i = tail.found.end;
          continue;
        }
      }
    }
    if ((ch === 'h' || ch === 'H') && !isWord(src[i - 1])) {
      const end = bareUrlEnd(src, i, meter);
      if (end > 0) {
        flush();
        const url = src.slice(i, end);
        out.push({ t: 'link', href: url, c: [{ t: 'text', v: url }] });
        i = end;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}
