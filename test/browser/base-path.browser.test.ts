/**
 * The app served under a path prefix, as behind an Ingress that routes
 * /team/chat without rewriting (WEBUI_BASE_PATH, set by the operator from
 * spec.ingress.path): the page, its assets and every API call stay under the
 * prefix, sign-up works and a chat streams. Real server, SQLite, Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureFrontendBuilt,
  launchChromium,
  type RunningBrowser,
  type RunningServer,
  startServer,
} from './harness.ts';
import { type BrowserFakeOllama, startBrowserFakeOllama } from './ollama.ts';

const PREFIX = '/team/chat';
let chromium: RunningBrowser;
let ollama: BrowserFakeOllama;
let server: RunningServer;

beforeAll(async () => {
  await ensureFrontendBuilt();
  [chromium, ollama] = await Promise.all([launchChromium(), startBrowserFakeOllama()]);
  server = await startServer({ WEBUI_BASE_PATH: PREFIX, OLLAMA_BASE_URL: ollama.url });
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
  await ollama?.stop();
});

describe('served under a path prefix', () => {
  it('loads from /team/chat, keeps every request under it, signs up and streams a chat', async () => {
    const ctx = await chromium.browser.newContext({ viewport: { width: 1200, height: 780 } });
    const page = await ctx.newPage();
    // Generous: the first page of a cold Chromium under a busy CI machine.
    page.setDefaultTimeout(20_000);
    const paths: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === server.url) paths.push(u.pathname);
    });
    page.on('pageerror', (e) => {
      throw e;
    });
    // The bare prefix redirects to the directory, so relative URLs resolve under it.
    await page.goto(`${server.url}${PREFIX}`);
    expect(new URL(page.url()).pathname).toBe(`${PREFIX}/`);
    await page.getByLabel('Name', { exact: true }).fill('Root');
    await page.getByLabel('Email', { exact: true }).fill('root@example.com');
    await page.getByLabel('Password', { exact: true }).fill('a long enough password');
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await page.getByRole('heading', { name: 'How can I help you today?' }).waitFor();
    const options = page.getByLabel('Model', { exact: true }).locator('option');
    await expect.poll(() => options.allTextContents()).toContain(ollama.models.normal);
    await page.getByLabel('Model', { exact: true }).selectOption(ollama.models.normal);
    await page.getByLabel('Message', { exact: true }).fill('Hello from a sub-path');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.locator('article.assistant').last();
    await expect.poll(() => answer.getAttribute('data-status')).toBe('done');
    // After a reload the session cookie still signs the user in (the page may reopen the new chat).
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).waitFor();

    expect(paths).toContain(`${PREFIX}/api/v1/auths/signup`);
    expect(paths).toContain(`${PREFIX}/ollama/api/chat`);
    expect(paths.some((p) => p.startsWith(`${PREFIX}/assets/`))).toBe(true);
    const outside = paths.filter((p) => p !== PREFIX && !p.startsWith(`${PREFIX}/`));
    expect(outside).toEqual([]);
    await ctx.close();
  });
});
