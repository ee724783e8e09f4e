/**
 * The parser under hostile answers (issue 14): its work must grow linearly
 * with the input, nesting is capped, and a table cannot multiply its input
 * into millions of cells. Work is counted (ParseMeter), not timed, so these
 * tests do not depend on the machine; the one timed test below guards regex
 * backtracking, which no counter can see, with a bound far above its cost.
 */
import { describe, expect, it } from 'vitest';
import { type Block, type Inline, MAX_NESTING, type ParseMeter, parseMarkdown } from './markdown.ts';

/** What the parser's loops examined for `src` (see ParseMeter). */
function work(src: string): number {
  const meter: ParseMeter = { steps: 0 };
  parseMarkdown(src, meter);
  return meter.steps;
}

/**
 * Each family makes a hostile input from a size; `n` is chosen per family so
 * that the old quadratic parser still finishes quickly on the larger size.
 */
const families: Array<[string, (n: number) => string, number]> = [
  ['unclosed link labels [a[a[a', (n) => '[a'.repeat(n), 4000],
  ['link labels sharing one ] and a long destination', (n) => `${'['.repeat(n)}](${'x'.repeat(n)}`, 4000],
  ['unclosed emphasis *a *a', (n) => '*a '.repeat(n), 2000],
  ['unclosed emphasis _a _a', (n) => '_a '.repeat(n), 2000],
  ['unclosed strong **a **a', (n) => '**a '.repeat(n), 2000],
  ['unclosed strong __a __a', (n) => '__a '.repeat(n), 2000],
  ['nested strong **** x ****', (n) => `${'**'.repeat(n)}x${'**'.repeat(n)}`, 500],
  ['nested emphasis *a *a … b***', (n) => `${'*a '.repeat(n)}b${'*'.repeat(n)}`, 500],
  ['nested quotes >>>> x', (n) => `${'>'.repeat(n)} x`, 500],
  ['nested quotes on many lines', (n) => `${'> '.repeat(n)}x\n`.repeat(20), 100],
  [
    'backtick runs falling by two, each searching to the end for its closer',
    // After a letter, so that the first run is not a code fence.
    (n) => `a${Array.from({ length: n }, (_, i) => `${'`'.repeat(2 * (n - i))}a`).join('')}`,
    30,
  ],
];

describe('parse work grows linearly with hostile input', () => {
  it.each(families)('%s', (_name, make, n) => {
    const small = make(n);
    const large = make(4 * n);
    const [a, b] = [work(small), work(large)];
    expect(a).toBeGreaterThan(0);
    // Linear: four times the input costs about four times the work (quadratic would be 16).
    expect(b / a, `work ${a} → ${b} for ${small.length} → ${large.length} characters`).toBeLessThan(
      (large.length / small.length) * 1.25,
    );
    // And a small constant per character (nesting is capped, so each character is scanned a bounded number of times).
    expect(b / large.length).toBeLessThan(8 * MAX_NESTING);
  });

  it('the issue reproduction, [a repeated 20,000 times, costs a few steps per character', () => {
    const src = '[a'.repeat(20_000);
    expect(work(src) / src.length).toBeLessThan(8);
  });

  it('lines full of spaces do not make the line regexes backtrack (timed, with a bound far above the cost)', () => {
    // Backtracking happens inside RegExp, where no counter reaches: the old heading pattern
    // took about 8 s on the first line (cubic) and the list-item one grew quadratically on the
    // second. Linear code takes well under a millisecond, so 1 s cannot be reached by noise.
    const lines = [`# a${' '.repeat(4000)}b`, `- ${' '.repeat(20_000)}a\u2028`, `# a${'\t'.repeat(4000)}b`];
    const start = performance.now();
    const parsed = lines.map((l) => parseMarkdown(l)[0]?.t);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(parsed).toEqual(['h', 'p', 'h']);
  });
});

function blockDepth(blocks: Block[]): number {
  return Math.max(0, ...blocks.map((b) => (b.t === 'quote' ? 1 + blockDepth(b.c) : 0)));
}

function inlineDepth(list: Inline[]): number {
  return Math.max(0, ...list.map((n) => ('c' in n ? 1 + inlineDepth(n.c) : 0)));
}

function allInlines(blocks: Block[]): Inline[][] {
  return blocks.flatMap((b) =>
    b.t === 'p' || b.t === 'h'
      ? [b.c]
      : b.t === 'list'
        ? b.items
        : b.t === 'quote'
          ? allInlines(b.c)
          : b.t === 'table'
            ? [...b.head, ...b.rows.flat()]
            : [],
  );
}

function plain(list: Inline[]): string {
  return list.map((n) => ('v' in n ? n.v : 'c' in n ? plain(n.c) : '\n')).join('');
}

describe('nesting is capped', () => {
  it('5,000 nested > parse (no stack overflow); quotes stop at the cap and the rest stays text', () => {
    const blocks = parseMarkdown(`${'>'.repeat(5000)} deep`);
    expect(blockDepth(blocks)).toBe(MAX_NESTING);
    const text = allInlines(blocks).map(plain).join('');
    expect(text).toBe(`${'>'.repeat(5000 - MAX_NESTING)} deep`);
  });

  it.each([
    ['**', `${'**'.repeat(5000)}x${'**'.repeat(5000)}`],
    ['*', `${'*a '.repeat(5000)}x${'*'.repeat(5000)}`],
    ['*** and *', `${'***a '.repeat(3000)}x${'***'.repeat(3000)}`],
  ])(
    '5,000 nested %s parse (no stack overflow), at most the cap deep, keeping every character',
    (_m, src) => {
      const blocks = parseMarkdown(src);
      const inlines = allInlines(blocks);
      expect(Math.max(...inlines.map(inlineDepth))).toBeLessThanOrEqual(MAX_NESTING);
      const letters = (t: string) => t.replace(/[^a-z]/g, '');
      expect(letters(inlines.map(plain).join(''))).toBe(letters(src));
    },
  );

  it('nesting below the cap is unchanged', () => {
    expect(parseMarkdown('> > > three')).toEqual([
      {
        t: 'quote',
        c: [{ t: 'quote', c: [{ t: 'quote', c: [{ t: 'p', c: [{ t: 'text', v: 'three' }] }] }] }],
      },
    ]);
    expect(parseMarkdown('**a *b* c** and *d [e](https://e.example)*')).toEqual([
      {
        t: 'p',
        c: [
          {
            t: 'strong',
            c: [
              { t: 'text', v: 'a ' },
              { t: 'em', c: [{ t: 'text', v: 'b' }] },
              { t: 'text', v: ' c' },
            ],
          },
          { t: 'text', v: ' and ' },
          {
            t: 'em',
            c: [
              { t: 'text', v: 'd ' },
              { t: 'link', href: 'https://e.example', c: [{ t: 'text', v: 'e' }] },
            ],
          },
        ],
      },
    ]);
  });
});

describe('tables cannot multiply their input', () => {
  it('short rows under a very wide header are padded only up to a budget', () => {
    const n = 2000;
    const src = `${'|a'.repeat(n)}\n${'|-'.repeat(n)}\n${'|\n'.repeat(n)}`;
    const [table] = parseMarkdown(src);
    if (table?.t !== 'table') throw new Error('not a table');
    const cells = table.head.length + table.rows.reduce((sum, r) => sum + r.length, 0);
    // Unbounded, that is 2,000 × 2,000 = 4 million cells from 12 KB.
    expect(cells).toBeLessThanOrEqual(2 * src.length);
    expect(table.rows.length).toBe(n);
  });
});
