/**
 * Hostile Markdown in Chromium (issue 14): a long answer built to make the
 * parser slow streams in through the real server, and the page must stay
 * responsive while it arrives; deeply nested Markdown must render instead of
 * overflowing the stack. Real server, SQLite, fake Ollama, Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import {
  createAdmin,
  ensureFrontendBuilt,
  launchChromium,
  type RunningBrowser,
  type RunningServer,
  startServer,
} from './harness.ts';

/**
 * 30 KB of `*a `: each `*` opens emphasis that never closes (the next `*`
 * follows a space). The old parser searched to the end of the line for each
 * one, about 1.5 s per parse at full length, and parsed again on every chunk.
 */
const TOKENS: readonly string[] = Array.from({ length: 60 }, () => '*a '.repeat(170));
const MODEL = 'hostile:latest';

let chromium: RunningBrowser;
let ollama: FakeOllama;
let server: RunningServer;

beforeAll(async () => {
  await ensureFrontendBuilt();
  [chromium, ollama] = await Promise.all([
    launchChromium(),
    startFakeOllama({
      host: '127.0.0.1',
      tokens: TOKENS,
      slowTokenDelayMs: 20,
      models: [{ name: MODEL, kind: 'slow' }],
    }),
  ]);
  server = await startServer({ OLLAMA_BASE_URL: ollama.url.replace(/\/$/, '') });
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
  await ollama?.close();
});

describe('hostile Markdown', () => {
  it('a long answer built to slow the parser streams in while the page stays responsive', async () => {
    const ctx = await chromium.browser.newContext({ viewport: { width: 1200, height: 780 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => {
      throw e;
    });
    await page.goto(server.url);
    await createAdmin(page);
    const options = page.getByLabel('Model', { exact: true }).locator('option');
    await expect.poll(() => options.allTextContents()).toContain(MODEL);
    await page.getByLabel('Model', { exact: true }).selectOption(MODEL);

    // A 10 ms heartbeat: every gap past 50 ms is time the page could not respond to input
    // (the way Total Blocking Time counts long tasks).
    await page.evaluate(() => {
      const probe = { last: performance.now(), blocked: 0, longest: 0 };
      (window as unknown as { __probe: typeof probe }).__probe = probe;
      setInterval(() => {
        const now = performance.now();
        const gap = now - probe.last;
        probe.blocked += Math.max(0, gap - 50);
        probe.longest = Math.max(probe.longest, gap);
        probe.last = now;
      }, 10);
    });
    await page.getByLabel('Message', { exact: true }).fill('Say something hostile');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.locator('article.assistant').last();
    await expect.poll(() => answer.getAttribute('data-status'), { timeout: 50_000 }).toBe('done');
    // A render the pace put off shows the rest shortly after the end.
    const expected = TOKENS.join('').trim();
    await expect
      .poll(() =>
        answer.evaluate((el) => el.querySelector('webui-markdown')?.shadowRoot?.textContent?.trim() ?? ''),
      )
      .toBe(expected);
    const probe = await page.evaluate(
      () => (window as unknown as { __probe: { blocked: number; longest: number } }).__probe,
    );
    // Before the fix: about 30 s blocked and single stalls over a second. After: a few ms per
    // render. The bounds leave room for a busy machine.
    expect(probe.blocked, JSON.stringify(probe)).toBeLessThan(2000);
    expect(probe.longest, JSON.stringify(probe)).toBeLessThan(1000);
    await ctx.close();
  });

  it('5,000 nested > and ** render (capped) instead of overflowing the stack', async () => {
    const ctx = await chromium.browser.newContext();
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => customElements.get('webui-markdown') !== undefined);
    const result = await page.evaluate(
      async (texts) => {
        const out: Array<{ quotes: number; emphasis: number; text: number; error: string }> = [];
        // How many strong/em elements the deepest one sits in (itself included).
        const depth = (el: Element): number =>
          (el.parentElement ? depth(el.parentElement) : 0) + (el.matches('strong, em') ? 1 : 0);
        for (const text of texts) {
          const el = document.createElement('webui-markdown');
          el.text = text;
          document.body.append(el);
          try {
            await el.updateComplete;
            const root = el.shadowRoot;
            out.push({
              quotes: root?.querySelectorAll('blockquote').length ?? 0,
              emphasis: Math.max(0, ...[...(root?.querySelectorAll('strong, em') ?? [])].map(depth)),
              text: root?.textContent?.length ?? 0,
              error: '',
            });
          } catch (err) {
            out.push({ quotes: 0, emphasis: 0, text: 0, error: String(err) });
          }
        }
        return out;
      },
      [`${'>'.repeat(5000)} deep`, `${'**'.repeat(5000)}x${'**'.repeat(5000)}`],
    );
    expect(errors).toEqual([]);
    expect(result.map((r) => r.error)).toEqual(['', '']);
    // Capped at 16 levels (MAX_NESTING); the rest of the markers stay visible as text.
    expect(result[0]?.quotes).toBe(16);
    expect(result[0]?.text).toBeGreaterThan(4900);
    expect(result[1]?.emphasis).toBe(16);
    await ctx.close();
  });
});
