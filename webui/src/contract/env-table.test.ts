import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from './env.ts';
import { DOC_FILE, envTableMarkdown, withFreshTable } from './env-table.ts';

describe('docs/webui-server.md env table', () => {
  it('lists every variable of the contract', () => {
    const table = envTableMarkdown();
    for (const s of Object.values(settings)) expect(table).toContain(`| \`${s.env}\` |`);
  });

  it('is up to date (run `node webui/src/contract/env-table.ts` to regenerate)', () => {
    const doc = readFileSync(DOC_FILE, 'utf8');
    // Biome pads Markdown tables; compare cell contents, not alignment.
    const cells = (md: string) =>
      md
        .split('\n')
        .map((l) =>
          l
            .trim()
            .replace(/\s*\|\s*/g, '|')
            .replace(/-{3,}/g, '---'),
        )
        .join('\n');
    expect(cells(withFreshTable(doc))).toBe(cells(doc));
  });
});
