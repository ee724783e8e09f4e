/**
 * Settings the deployment manages (WEBUI_MANAGED_SETTINGS) are read-only in
 * the UI with the reason, and an Ollama that is unreachable from the first
 * start shows the server's loopback hint. Real server, real SQLite, Chromium.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureFrontendBuilt,
  freePort,
  launchChromium,
  ROOT,
  type RunningBrowser,
  type RunningServer,
  startServer,
  unlabelledControls,
} from './harness.ts';

const SHOTS = process.env.SCREENSHOTS === '1' ? path.join(ROOT, 'docs/screenshots') : '';
async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

let chromium: RunningBrowser;
let server: RunningServer;
let page: Page;
let ollamaUrl: string;

beforeAll(async () => {
  await ensureFrontendBuilt();
  ollamaUrl = `http://localhost:${await freePort()}`;
  [chromium, server] = await Promise.all([
    launchChromium(),
    startServer({
      WEBUI_MANAGED_SETTINGS: 'DEFAULT_USER_ROLE,OLLAMA_BASE_URLS',
      DEFAULT_USER_ROLE: 'user',
      OLLAMA_BASE_URLS: ollamaUrl,
    }),
  ]);
  const ctx = await chromium.browser.newContext({
    viewport: { width: 1200, height: 780 },
    colorScheme: 'dark',
  });
  page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(server.url);
  await page.getByLabel('Name', { exact: true }).fill('Root');
  await page.getByLabel('Email', { exact: true }).fill('root@example.com');
  await page.getByLabel('Password', { exact: true }).fill('a long enough password');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'How can I help you today?' }).waitFor();
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

describe('managed settings and an unreachable Ollama', () => {
  it('the chat explains that Ollama is unreachable, with the container-loopback hint', async () => {
    const banner = page.getByRole('alert').filter({ hasText: 'Ollama is not reachable.' });
    await expect.poll(() => banner.count()).toBe(1);
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain(ollamaUrl);
    expect(text).toMatch(/host\.docker\.internal/);
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await shot(page, 'chat-unreachable-dark');
  });

  it('a managed setting is read-only with the reason, and the rest still saves', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('link', { name: 'Authentication', exact: true }).click();
    const role = page.getByLabel('Default role for new users');
    await expect.poll(() => role.inputValue()).toBe('user');
    expect(await role.isDisabled()).toBe(true);
    expect(await page.locator('#DEFAULT_USER_ROLE-hint').textContent()).toMatch(/Managed by the deployment/);
    // A setting that is not managed stays editable and saves without tripping the 409.
    const signup = page.getByLabel('Enable New Sign Ups');
    expect(await signup.isDisabled()).toBe(false);
    await signup.check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    const cfg = await page.evaluate(() => fetch('/api/v1/auths/admin/config').then((r) => r.json()));
    expect(cfg).toMatchObject({ ENABLE_SIGNUP: true, DEFAULT_USER_ROLE: 'user' });
    await shot(page, 'settings-authentication');
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('a managed Ollama URL is read-only on the Connections page', async () => {
    await page.getByRole('link', { name: 'Connections', exact: true }).click();
    const url = page.getByLabel(/Ollama server URL/);
    await expect.poll(() => url.inputValue()).toBe(ollamaUrl);
    expect(await url.getAttribute('readonly')).not.toBeNull();
    expect(await page.locator('#urls-managed').textContent()).toMatch(/Managed by the deployment/);
    expect(await page.getByRole('button', { name: /Add another URL/ }).count()).toBe(0);
  });
});
