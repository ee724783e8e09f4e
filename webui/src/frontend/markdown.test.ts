import { describe, expect, it } from 'vitest';
import { type Block, type Inline, parseInline, parseMarkdown, safeHref, splitRow } from './markdown.ts';

/** Every string the renderer would bind, to check nothing arrives as markup. */
function texts(blocks: Block[]): string[] {
  const inl = (list: Inline[]): string[] =>
    list.flatMap((n) =>
      n.t === 'text' || n.t === 'code'
        ? [n.v]
        : n.t === 'br'
          ? []
          : n.t === 'link'
            ? [n.href, ...inl(n.c)]
            : inl(n.c),
    );
  return blocks.flatMap((b) =>
    b.t === 'p' || b.t === 'h'
      ? inl(b.c)
      : b.t === 'code'
        ? [b.v]
        : b.t === 'list'
          ? b.items.flatMap(inl)
          : b.t === 'quote'
            ? texts(b.c)
            : b.t === 'table'
              ? [...b.head.flatMap(inl), ...b.rows.flatMap((r) => r.flatMap(inl))]
              : [],
  );
}

describe('parseMarkdown', () => {
  it('parses headings, paragraphs with line breaks, lists and quotes', () => {
    const blocks = parseMarkdown('# Title\n\nline one\nline **two**\n\n- a\n- b\n\n3. c\n4. d\n\n> quoted');
    expect(blocks.map((b) => b.t)).toEqual(['h', 'p', 'list', 'list', 'quote']);
    expect(blocks[1]).toEqual({
      t: 'p',
      c: [
        { t: 'text', v: 'line one' },
        { t: 'br' },
        { t: 'text', v: 'line ' },
        { t: 'strong', c: [{ t: 'text', v: 'two' }] },
      ],
    });
    expect(blocks[3]).toMatchObject({ t: 'list', ordered: true, start: 3 });
  });

  it('keeps fenced code verbatim, including markup and an unclosed fence while streaming', () => {
    expect(parseMarkdown('```ts\nconst a = `<b>`;\n**not bold**\n```\nafter')).toEqual([
      { t: 'code', lang: 'ts', v: 'const a = `<b>`;\n**not bold**' },
      { t: 'p', c: [{ t: 'text', v: 'after' }] },
    ]);
    expect(parseMarkdown('intro\n```py\nprint(1)')).toEqual([
      { t: 'p', c: [{ t: 'text', v: 'intro' }] },
      { t: 'code', lang: 'py', v: 'print(1)' },
    ]);
  });

  it('treats HTML as text: a hostile answer yields no markup, only characters', () => {
    const hostile =
      '<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n<iframe src="javascript:alert(3)">';
    const blocks = parseMarkdown(hostile);
    expect(blocks.every((b) => b.t === 'p')).toBe(true);
    expect(texts(blocks).join('')).toContain('<img src=x onerror="alert(1)">');
    expect(texts(blocks).join('')).toContain('<script>alert(2)</script>');
  });

  it('drops dangerous link targets but keeps their label as text', () => {
    expect(parseInline('[click](javascript:alert(1))')).toEqual([{ t: 'text', v: 'click' }]);
    expect(parseInline('[x](data:text/html,hi)')).toEqual([{ t: 'text', v: 'x' }]);
    expect(parseInline('[docs](https://ollama.com/docs)')).toEqual([
      { t: 'link', href: 'https://ollama.com/docs', c: [{ t: 'text', v: 'docs' }] },
    ]);
  });

  it('autolinks bare http(s) URLs without trailing punctuation', () => {
    expect(parseInline('see https://example.com/a.')).toEqual([
      { t: 'text', v: 'see ' },
      { t: 'link', href: 'https://example.com/a', c: [{ t: 'text', v: 'https://example.com/a' }] },
      { t: 'text', v: '.' },
    ]);
  });

  it('does not take underscores inside identifiers as strong', () => {
    expect(parseInline('a window.__x=1 and window.__y=2')).toEqual([
      { t: 'text', v: 'a window.__x=1 and window.__y=2' },
    ]);
    expect(parseInline('__bold__ and **also**')).toEqual([
      { t: 'strong', c: [{ t: 'text', v: 'bold' }] },
      { t: 'text', v: ' and ' },
      { t: 'strong', c: [{ t: 'text', v: 'also' }] },
    ]);
  });

  it('handles inline code, emphasis, escapes and snake_case words', () => {
    expect(parseInline('use `a*b*c` and *em* or \\*not\\* in snake_case_name')).toEqual([
      { t: 'text', v: 'use ' },
      { t: 'code', v: 'a*b*c' },
      { t: 'text', v: ' and ' },
      { t: 'em', c: [{ t: 'text', v: 'em' }] },
      { t: 'text', v: ' or *not* in snake_case_name' },
    ]);
  });
});

describe('safeHref', () => {
  it.each([
    ['https://a.b/c', 'https://a.b/c'],
    ['HTTP://A.B', 'HTTP://A.B'],
    ['mailto:x@y.z', 'mailto:x@y.z'],
    ['javascript:alert(1)', null],
    [' JaVaScRiPt:alert(1)', null],
    ['vbscript:x', null],
    ['/relative', null],
  ])('%s → %s', (input, expected) => {
    expect(safeHref(input)).toBe(expected);
  });
});

describe('GFM tables', () => {
  const cellText = (c: Inline[]) => c.map((n) => (n.t === 'text' || n.t === 'code' ? n.v : '')).join('');

  it('parses a header, alignments and rows, padding short rows and dropping extra cells', () => {
    const [table] = parseMarkdown(
      '| Model | Size | Ctx |\n| :-- | --: | :-: |\n| llama3.2 | 2 GB | 128k |\n| qwen | 4 GB |\n| a | b | c | d |',
    );
    if (table?.t !== 'table') throw new Error(`not a table: ${JSON.stringify(table)}`);
    expect(table.align).toEqual(['left', 'right', 'center']);
    expect(table.head.map(cellText)).toEqual(['Model', 'Size', 'Ctx']);
    expect(table.rows.map((r) => r.map(cellText))).toEqual([
      ['llama3.2', '2 GB', '128k'],
      ['qwen', '4 GB', ''],
      ['a', 'b', 'c'],
    ]);
  });

  it('takes a header row straight after a paragraph line, and ends at a blank line', () => {
    const blocks = parseMarkdown('Here it is:\na | b\n--- | ---\n1 | 2\n\nafter');
    expect(blocks.map((b) => b.t)).toEqual(['p', 'table', 'p']);
    const table = blocks[1];
    if (table?.t !== 'table') throw new Error('not a table');
    expect(table.align).toEqual([null, null]);
    expect(table.rows.map((r) => r.map(cellText))).toEqual([['1', '2']]);
  });

  it('keeps pipes that are escaped or inside code spans, and formats cells inline', () => {
    expect(splitRow('| `a|b` | c \\| d | **e** |')).toEqual(['`a|b`', 'c | d', '**e**']);
    const [table] = parseMarkdown('| x | y |\n|---|---|\n| `a|b` | **bold** |');
    if (table?.t !== 'table') throw new Error('not a table');
    expect(table.rows[0]?.[0]).toEqual([{ t: 'code', v: 'a|b' }]);
    expect(table.rows[0]?.[1]).toEqual([{ t: 'strong', c: [{ t: 'text', v: 'bold' }] }]);
  });

  it('is not a table without a matching delimiter row (as while the answer is still streaming)', () => {
    expect(parseMarkdown('| a | b |').map((b) => b.t)).toEqual(['p']);
    expect(parseMarkdown('| a | b |\n| --- |').map((b) => b.t)).toEqual(['p']);
    expect(parseMarkdown('a | b\nnot | a delimiter').map((b) => b.t)).toEqual(['p']);
  });

  it('binds table cells as text: markup in a cell stays characters', () => {
    const blocks = parseMarkdown('| <b>x</b> |\n|---|\n| <img src=x onerror=alert(1)> |');
    expect(blocks[0]?.t).toBe('table');
    expect(texts(blocks)).toEqual(['<b>x</b>', '<img src=x onerror=alert(1)>']);
  });
});
