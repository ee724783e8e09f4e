/**
 * The frontend against the real server process, a real SQLite file and the
 * fake Ollama, in Debian's Chromium. The steps share one instance and run in
 * order, like a first day with the product: onboarding, signup gating,
 * approval, chatting, streaming, Stop, connection settings.
 *
 * SCREENSHOTS=1 also writes docs/screenshots/*.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackHint, placeFrom, readPlaceClues } from '../../webui/src/server/ollama/loopback-hint.ts';
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
import { type BrowserFakeOllama, startBrowserFakeOllama } from './ollama.ts';

const SHOTS = process.env.SCREENSHOTS === '1' ? path.join(ROOT, 'docs/screenshots') : '';
async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'correct horse battery' };
const BOB = { name: 'Bob Builder', email: 'bob@example.com', password: 'another long password' };

let chromium: RunningBrowser;
let ollama: BrowserFakeOllama;
let ollama2: BrowserFakeOllama;
let server: RunningServer;
let adminCtx: BrowserContext;
let admin: Page;
let bobCtx: BrowserContext;
let bob: Page;
/** Every URL any page asked for that is not on the WebUI's origin (the app must work offline, no CDN). */
const foreignRequests: string[] = [];
/** Every script the pages loaded. */
const scriptUrls = new Set<string>();
/** What Chromium reported as blocked by the page's Content-Security-Policy. */
const cspViolations: string[] = [];

function watchRequests(page: Page) {
  page.on('request', (r) => {
    const url = r.url();
    if (url.startsWith('data:') || url.startsWith('blob:')) return;
    if (new URL(url).origin !== server.url) foreignRequests.push(url);
    if (r.resourceType() === 'script') scriptUrls.add(url);
  });
}

async function newPage(): Promise<[BrowserContext, Page]> {
  const ctx = await chromium.browser.newContext({
    viewport: { width: 1200, height: 780 },
    colorScheme: 'light',
  });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  watchRequests(page);
  page.on('pageerror', (e) => {
    throw e;
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return [ctx, page];
}

async function fillAuth(page: Page, who: { name?: string; email: string; password: string }) {
  if (who.name) await page.getByLabel('Name', { exact: true }).fill(who.name);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
}

async function signOut(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => page.getByRole('heading', { name: /Sign in to/ }).count()).toBe(1);
}

async function signIn(page: Page, who: { email: string; password: string }) {
  await fillAuth(page, { email: who.email, password: who.password });
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const lastAnswer = (page: Page): Locator => page.locator('article.assistant').last();

async function send(page: Page, model: string, text: string) {
  await page.getByLabel('Model', { exact: true }).selectOption(model);
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** The focused element inside nested shadow roots, as TAG#id. */
function deepActive(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.tagName}#${el.id}` : '';
  });
}

/** The accessible name (aria-label, else its <label>, else text) of the focused element inside nested shadow roots. */
function deepActiveName(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    const label = (el as HTMLInputElement | null)?.labels?.[0]?.textContent;
    return (el?.getAttribute('aria-label') ?? label ?? el?.textContent ?? '').trim();
  });
}

/** Relative luminance (0 black .. 1 white) of a computed CSS colour like rgb(19, 20, 23). */
function luminance(rgb: string): number {
  const [r = 0, g = 0, b = 0] = (rgb.match(/\d+(\.\d+)?/g) ?? []).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** Background and text colour of the page and of the composer's text box (inside three shadow roots). */
function themeColours(page: Page): Promise<{ page: string; text: string; composer: string }> {
  return page.evaluate(() => {
    const body = getComputedStyle(document.body);
    const prompt = document
      .querySelector('webui-app')
      ?.shadowRoot?.querySelector('webui-chat')
      ?.shadowRoot?.querySelector('webui-composer')
      ?.shadowRoot?.querySelector('textarea');
    return {
      page: body.backgroundColor,
      text: body.color,
      composer: prompt ? getComputedStyle(prompt).backgroundColor : '',
    };
  });
}

/** The rendered answer text (it lives in <webui-markdown>'s shadow root, which textContent does not enter). */
function answerText(answer: Locator): Promise<string> {
  return answer.evaluate((el) => el.querySelector('webui-markdown')?.shadowRoot?.textContent?.trim() ?? '');
}

async function status(answer: Locator): Promise<string | null> {
  return answer.getAttribute('data-status');
}

beforeAll(async () => {
  await ensureFrontendBuilt();
  [chromium, ollama, ollama2] = await Promise.all([
    launchChromium(),
    startBrowserFakeOllama(),
    startBrowserFakeOllama(),
  ]);
  server = await startServer({ OLLAMA_BASE_URL: ollama.url, AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT: '2' });
  [adminCtx, admin] = await newPage();
  [bobCtx, bob] = await newPage();
});

afterAll(async () => {
  await adminCtx?.close();
  await bobCtx?.close();
  await chromium?.close();
  await server?.stop();
  await ollama?.stop();
  await ollama2?.stop();
});

describe('first day with the WebUI', () => {
  it('onboarding creates the admin account', async () => {
    await admin.goto(server.url);
    await expect.poll(() => admin.getByRole('heading', { name: /Get started with/ }).count()).toBe(1);
    await shot(admin, 'onboarding');
    // An empty form is refused in words, not by the browser's silent validation.
    await admin.getByRole('button', { name: 'Create admin account' }).click();
    await expect.poll(() => admin.getByRole('alert').textContent()).toMatch(/Please enter your name/);
    await fillAuth(admin, ADMIN);
    await admin.getByRole('button', { name: 'Create admin account' }).click();
    await expect
      .poll(() => admin.getByRole('heading', { name: 'How can I help you today?' }).count())
      .toBe(1);
    expect(await unlabelledControls(admin)).toEqual([]);
    const me = await admin.evaluate(() => fetch('/api/v1/auths/').then((r) => r.json()));
    expect(me).toMatchObject({ email: ADMIN.email, role: 'admin' });
  });

  it('after sign out the Sign up link is hidden, and a wrong password is explained inline', async () => {
    await signOut(admin);
    // The server cleared the cookie (sign-out is a POST): a reload does not sign back in.
    await admin.reload();
    await expect.poll(() => admin.getByRole('heading', { name: /Sign in to/ }).count()).toBe(1);
    expect(await admin.getByRole('button', { name: 'Sign up' }).count()).toBe(0);
    await signIn(admin, { email: ADMIN.email, password: 'wrong password' });
    await expect.poll(() => admin.getByRole('alert').textContent()).toMatch(/incorrect|invalid/i);
    await shot(admin, 'sign-in');
    expect(await unlabelledControls(admin)).toEqual([]);
    // Keyboard only: Tab through the form and submit with Enter.
    await admin.getByRole('heading', { name: /Sign in to/ }).focus();
    await admin.keyboard.press('Tab');
    await expect.poll(() => deepActive(admin)).toBe('INPUT#email');
    await admin.keyboard.press('ControlOrMeta+A');
    await admin.keyboard.type(ADMIN.email);
    await admin.keyboard.press('Tab');
    await expect.poll(() => deepActive(admin)).toBe('INPUT#password');
    await admin.keyboard.press('ControlOrMeta+A');
    await admin.keyboard.type(ADMIN.password);
    await admin.keyboard.press('Enter');
    await expect
      .poll(() => admin.getByRole('heading', { name: 'How can I help you today?' }).count())
      .toBe(1);
    // Focus lands on the new screen's heading, not on <body>.
    await expect.poll(() => deepActive(admin)).toBe('H1#');
  });

  it('the admin enables sign ups, and the Sign up link appears', async () => {
    await admin.getByRole('link', { name: 'Settings', exact: true }).click();
    await admin.getByRole('link', { name: 'Authentication', exact: true }).click();
    const toggle = admin.getByLabel('Enable New Sign Ups');
    await expect.poll(() => toggle.isChecked()).toBe(false);
    await toggle.check();
    // The default role for new users saves too (and goes back to pending for the next step).
    const role = admin.getByLabel('Default role for new users');
    expect(await role.inputValue()).toBe('pending');
    await role.selectOption('user');
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => admin.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    const authConfig = () => admin.evaluate(() => fetch('/api/v1/auths/admin/config').then((r) => r.json()));
    await expect.poll(authConfig).toMatchObject({ ENABLE_SIGNUP: true, DEFAULT_USER_ROLE: 'user' });
    await role.selectOption('pending');
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(authConfig).toMatchObject({ ENABLE_SIGNUP: true, DEFAULT_USER_ROLE: 'pending' });

    await bob.goto(server.url);
    await expect.poll(() => bob.getByRole('button', { name: 'Sign up' }).count()).toBe(1);
  });

  it('a second user signs up as pending and sees the pending screen', async () => {
    await bob.getByRole('button', { name: 'Sign up' }).click();
    // Focus moves into the form when it switches to sign-up.
    await expect.poll(() => deepActive(bob)).toBe('INPUT#name');
    // A taken email is refused inline, in the server's words, and the form keeps what was typed.
    await fillAuth(bob, { ...BOB, email: ADMIN.email });
    await bob.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => bob.getByRole('alert').textContent()).toMatch(/already/i);
    expect(await bob.getByLabel('Name', { exact: true }).inputValue()).toBe(BOB.name);
    await fillAuth(bob, BOB);
    await bob.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => bob.getByRole('heading', { name: 'Account activation pending' }).count()).toBe(1);
    expect(await bob.getByLabel('Message', { exact: true }).count()).toBe(0);
    expect(await unlabelledControls(bob)).toEqual([]);
    // SHOW_ADMIN_DETAILS is on by default: the pending user sees whom to ask.
    const contact = bob.getByRole('link', { name: ADMIN.email });
    expect(await contact.getAttribute('href')).toBe(`mailto:${ADMIN.email}`);
    expect(await bob.getByText(ADMIN.name).count()).toBe(1);
    await shot(bob, 'pending');
    // "Check again" asks the server now; still pending, the screen stays.
    const asked = bob.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/auths/');
    await bob.getByRole('button', { name: 'Check again' }).click();
    await asked;
    await expect.poll(() => bob.getByRole('heading', { name: 'Account activation pending' }).count()).toBe(1);
  });

  it('with "Show admin details" off (keyboard only), the pending screen hides the contact', async () => {
    const showAdminDetails = () =>
      admin.evaluate(() =>
        fetch('/api/v1/auths/admin/config')
          .then((r) => r.json())
          .then((c) => c.SHOW_ADMIN_DETAILS),
      );
    const toggle = admin.getByLabel('Show admin details to pending users');
    await expect.poll(() => toggle.isChecked()).toBe(true);
    await toggle.focus();
    await admin.keyboard.press('Space');
    expect(await toggle.isChecked()).toBe(false);
    await admin.getByRole('button', { name: 'Save' }).press('Enter');
    await expect.poll(showAdminDetails).toBe(false);
    const details = bob.waitForResponse((r) => r.url().endsWith('/api/v1/auths/admin/details'));
    await bob.reload();
    expect((await details).ok()).toBe(false);
    await expect.poll(() => bob.getByText('Contact your administrator to get access.').count()).toBe(1);
    expect(await bob.getByText(ADMIN.email).count()).toBe(0);
    // Back on, so the rest of the day looks like a default install.
    await toggle.check();
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(showAdminDetails).toBe(true);
  });

  it('the admin approves them, and they can chat', async () => {
    await admin.getByRole('link', { name: 'Users' }).click();
    const row = admin.locator('tr', { hasText: BOB.email });
    await expect.poll(() => row.getByLabel(`Role for ${BOB.email}`).inputValue()).toBe('pending');
    await shot(admin, 'settings-users');
    expect(await unlabelledControls(admin)).toEqual([]);
    await admin.getByRole('button', { name: `Approve ${BOB.email}` }).click();
    await expect.poll(() => row.getByLabel(`Role for ${BOB.email}`).inputValue()).toBe('user');
    // The Approve button is gone; focus lands on that user's role, not on <body>.
    await expect.poll(() => deepActiveName(admin)).toBe(`Role for ${BOB.email}`);

    // No click: the pending screen notices the approval on its own (it checks every 5 s).
    await expect
      .poll(() => bob.getByRole('heading', { name: 'How can I help you today?' }).count(), {
        timeout: 15_000,
      })
      .toBe(1);
    const options = bob.getByLabel('Model', { exact: true }).locator('option');
    await expect.poll(() => options.allTextContents()).toContain(ollama.models.normal);
    await send(bob, ollama.models.normal, 'Hello there');
    await expect.poll(() => status(lastAnswer(bob))).toBe('done');
    expect((await answerText(lastAnswer(bob))).length).toBeGreaterThan(0);
    // The chat was stored by the server and shows in the sidebar.
    await expect
      .poll(() => bob.getByRole('navigation', { name: 'Chat history' }).getByRole('link').count())
      .toBe(2);
  });

  it('a streamed answer appears token by token', async () => {
    await bob.getByRole('link', { name: '+ New chat' }).click();
    // A new chat puts focus in the composer; Enter sends (keyboard only).
    await expect.poll(() => deepActive(bob)).toBe('TEXTAREA#prompt');
    await bob.getByLabel('Model', { exact: true }).selectOption(ollama.models.slow);
    await bob.getByLabel('Message', { exact: true }).fill('Tell me slowly');
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    const answer = lastAnswer(bob);
    const partials: string[] = [];
    let shotTaken = false;
    for (;;) {
      const [st, content] = await Promise.all([status(answer), answerText(answer)]);
      if (st !== 'streaming') break;
      if (content && content !== partials.at(-1)) partials.push(content);
      if (!shotTaken && content.includes('prints')) {
        shotTaken = true;
        await shot(bob, 'chat-streaming');
      }
    }
    expect(await status(answer)).toBe('done');
    const final = await answerText(answer);
    // The Markdown arrived whole: bold, the code block (with its copy button) and the list.
    expect(final).toContain('console.log("hello");');
    expect(await answer.locator('webui-markdown strong').textContent()).toBe('some');
    const copy = answer.getByRole('button', { name: 'Copy code' });
    expect(await copy.count()).toBe(1);
    await copy.press('Enter');
    await expect.poll(() => copy.textContent()).toMatch(/Copied/);
    expect(await bob.evaluate(() => navigator.clipboard.readText())).toBe('console.log("hello");');
    expect(await unlabelledControls(bob)).toEqual([]);
    // Several distinct, growing intermediate states were on screen before the end.
    expect(partials.length).toBeGreaterThanOrEqual(2);
    expect(partials[0]?.length).toBeLessThan(final.length);
    for (const [i, p] of partials.entries()) {
      expect(p.length).toBeLessThanOrEqual(final.length);
      if (i > 0) expect(p.length).toBeGreaterThan(partials[i - 1]?.length ?? 0);
    }
  });

  it('Stop aborts a streaming answer and keeps what arrived', async () => {
    await send(bob, ollama.models.slow, 'Another slow one');
    const answer = lastAnswer(bob);
    await expect.poll(() => answer.locator('webui-markdown').count()).toBe(1);
    expect(await status(answer)).toBe('streaming');
    await bob.getByRole('button', { name: 'Stop' }).press('Enter');
    await expect.poll(() => status(answer)).toBe('stopped');
    // The abort travelled through the server: Ollama saw its request cancelled before the end.
    const upstream = await ollama.fake.waitFor(
      (r) =>
        r.aborted &&
        (r.body as { messages?: { content: string }[] })?.messages?.at(-1)?.content === 'Another slow one',
      10_000,
    );
    expect(upstream.finished).toBe(false);
    expect((await answerText(answer)).length).toBeGreaterThan(0);
    expect(await answer.getByText('Stopped.').count()).toBe(1);
    expect(await bob.getByRole('button', { name: 'Send' }).count()).toBe(1);
    // Focus returns to the composer for the next message.
    await expect.poll(() => deepActive(bob)).toBe('TEXTAREA#prompt');
  });

  it('answers the server cuts off are marked as cut, with the reason', async () => {
    // dying: Ollama drops the connection mid-answer; stalled: it goes silent until the idle timeout.
    const cutters = [ollama.models.dying, ollama.models.stalled].filter((m): m is string => Boolean(m));
    expect(cutters.length, 'the fake Ollama offers dying and stalled models').toBe(2);
    for (const model of cutters) {
      await send(bob, model, `Break with ${model}`);
      const answer = lastAnswer(bob);
      await expect.poll(() => status(answer), { timeout: 20_000 }).toBe('cut');
      const note = answer.getByRole('note');
      expect(await note.textContent()).toMatch(/^Answer cut off: \S/);
    }
  });

  it('a failing model shows the server error instead of an answer', async () => {
    expect(ollama.models.failing).toBeTruthy();
    await send(bob, ollama.models.failing ?? '', 'Fail please');
    const answer = lastAnswer(bob);
    await expect.poll(() => status(answer)).toBe('error');
    expect(((await answer.getByRole('alert').textContent()) ?? '').trim().length).toBeGreaterThan(0);
  });

  it('chat history: rename and delete through the sidebar', async () => {
    const history = bob.getByRole('navigation', { name: 'Chat history' });
    const first = history.getByRole('listitem').first();
    const title = (await first.getByRole('link').textContent())?.trim() ?? '';
    // Keyboard only: Tab from the chat's link reaches its Rename button, which is then visible.
    await first.getByRole('link').focus();
    await bob.keyboard.press('Tab');
    await expect.poll(() => deepActiveName(bob)).toBe(`Rename ${title}`);
    expect(await history.getByRole('button', { name: `Rename ${title}` }).isVisible()).toBe(true);
    await bob.keyboard.press('Enter');
    const input = history.getByLabel(`New title for ${title}`);
    await input.fill('Renamed chat');
    await input.press('Enter');
    await expect.poll(() => history.getByRole('link', { name: 'Renamed chat' }).count()).toBe(1);
    // Focus returns to the row's Rename button.
    await expect.poll(() => deepActiveName(bob)).toBe('Rename Renamed chat');
    const stored = await bob.evaluate(() => fetch('/api/v1/chats/').then((r) => r.json()));
    expect(stored.map((c: { title: string }) => c.title)).toContain('Renamed chat');

    const before = await history.getByRole('listitem').count();
    // Cancel keeps the chat and returns focus to its Delete button.
    await history.getByRole('button', { name: 'Delete Renamed chat' }).click();
    await history.getByRole('button', { name: 'Cancel' }).press('Enter');
    await expect.poll(() => deepActiveName(bob)).toBe('Delete Renamed chat');
    expect(await history.getByRole('listitem').count()).toBe(before);
    await history.getByRole('button', { name: 'Delete Renamed chat' }).press('Enter');
    // The confirmation takes focus, so Enter confirms.
    await expect.poll(() => deepActiveName(bob)).toBe('Delete');
    await bob.keyboard.press('Enter');
    await expect.poll(() => history.getByRole('listitem').count()).toBe(before - 1);
    await expect.poll(() => deepActiveName(bob)).toBe('+ New chat');
    expect(await history.getByRole('link', { name: 'Renamed chat' }).count()).toBe(0);
  });

  it('Markdown is rendered safely: a hostile answer injects nothing, code blocks copy', async () => {
    const hostile =
      '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> [x](javascript:window.__pwned=3)\n\n' +
      '```html\n<b onclick="x">not bold</b>\n```';
    const result = await bob.evaluate(async (text) => {
      const el = document.createElement('webui-markdown');
      el.text = text;
      document.body.append(el);
      await el.updateComplete;
      const root = el.shadowRoot;
      const out = {
        elements: [...(root?.querySelectorAll('img, script, b, iframe, [onclick], [onerror]') ?? [])].length,
        links: [...(root?.querySelectorAll('a') ?? [])].map((a) => a.getAttribute('href')),
        text: root?.textContent ?? '',
      };
      return out;
    }, hostile);
    expect(result.elements).toBe(0);
    expect(result.links).toEqual([]);
    expect(result.text).toContain('<img src=x onerror="window.__pwned=1">');
    expect(result.text).toContain('<b onclick="x">not bold</b>');
    expect(await bob.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    const copy = bob.locator('body > webui-markdown').getByRole('button', { name: 'Copy code' });
    await copy.click();
    await expect.poll(() => copy.textContent()).toMatch(/Copied/);
    expect(await bob.evaluate(() => navigator.clipboard.readText())).toBe('<b onclick="x">not bold</b>');
  });

  it('Markdown tables render with header cells and column alignment, and scroll when wide', async () => {
    const md = '| Model | Size |\n| :-- | --: |\n| llama3.2 | 2 GB |\n| <i>x</i> | `a|b` |';
    const result = await bob.evaluate(async (text) => {
      const el = document.createElement('webui-markdown');
      el.text = text;
      el.style.display = 'block';
      el.style.width = '120px';
      document.body.append(el);
      await el.updateComplete;
      const root = el.shadowRoot;
      const cells = [...(root?.querySelectorAll('th, td') ?? [])];
      const wrap = root?.querySelector('.table');
      const out = {
        headers: [...(root?.querySelectorAll('thead th[scope="col"]') ?? [])].map((c) =>
          c.textContent?.trim(),
        ),
        rows: [...(root?.querySelectorAll('tbody tr') ?? [])].map((r) =>
          [...r.querySelectorAll('td')].map((c) => c.textContent?.trim()),
        ),
        align: cells.map((c) => getComputedStyle(c).textAlign),
        italic: root?.querySelectorAll('i').length ?? -1,
        overflowX: wrap ? getComputedStyle(wrap).overflowX : '',
      };
      el.remove();
      return out;
    }, md);
    expect(result.headers).toEqual(['Model', 'Size']);
    expect(result.rows).toEqual([
      ['llama3.2', '2 GB'],
      ['<i>x</i>', 'a|b'],
    ]);
    expect(result.align).toEqual(['left', 'right', 'left', 'right', 'left', 'right']);
    expect(result.italic).toBe(0);
    expect(result.overflowX).toBe('auto');
  });

  it('on a phone, in dark mode, the history hides behind a History button', async () => {
    const phone = await chromium.browser.newContext({
      viewport: { width: 390, height: 760 },
      colorScheme: 'dark',
      storageState: await bobCtx.storageState(),
    });
    try {
      const page = await phone.newPage();
      page.setDefaultTimeout(10_000);
      watchRequests(page);
      const chats = await bob.evaluate(() => fetch('/api/v1/chats/').then((r) => r.json()));
      // The model list arrives after the chat (as on a slow Ollama), the order that once lost the chat's model.
      const chatLoaded = page.waitForResponse((r) => r.url().endsWith(`/api/v1/chats/${chats[0].id}`));
      await page.route('**/ollama/api/tags', async (route) => {
        await chatLoaded;
        await route.continue();
      });
      await page.goto(`${server.url}/#/c/${chats[0].id}`);
      await expect.poll(() => page.locator('article.assistant').count()).toBeGreaterThan(0);
      // The picker shows the model this chat used, not the one last picked (stored in localStorage).
      const stored = await page.evaluate(
        (id) => fetch(`/api/v1/chats/${id}`).then((r) => r.json()),
        chats[0].id,
      );
      await expect
        .poll(() => page.getByLabel('Model', { exact: true }).inputValue())
        .toBe(stored.chat.models[0]);
      // prefers-color-scheme: dark really turns the page and the controls inside shadow roots dark.
      const dark = await themeColours(page);
      const light = await themeColours(bob);
      expect(luminance(dark.page)).toBeLessThan(0.2);
      expect(luminance(dark.text)).toBeGreaterThan(0.7);
      expect(luminance(dark.composer)).toBeLessThan(0.2);
      expect(luminance(light.page)).toBeGreaterThan(0.8);
      expect(luminance(light.text)).toBeLessThan(0.3);
      expect(luminance(light.composer)).toBeGreaterThan(0.8);
      const history = page.getByRole('navigation', { name: 'Chat history' });
      expect(await history.isVisible()).toBe(false);
      const toggle = page.getByRole('button', { name: 'History' });
      await toggle.click();
      expect(await toggle.getAttribute('aria-expanded')).toBe('true');
      expect(await history.isVisible()).toBe(true);
      await shot(page, 'chat-phone-history-dark');
      expect(await unlabelledControls(page)).toEqual([]);
      await toggle.click();
      expect(await history.isVisible()).toBe(false);
      // Escape closes it too, and focus returns to the toggle.
      await toggle.click();
      await page.keyboard.press('Escape');
      expect(await history.isVisible()).toBe(false);
      await expect.poll(() => deepActiveName(page)).toBe('History');
      await shot(page, 'chat-phone-dark');
    } finally {
      await phone.close();
    }
  });

  it('the admin changes a role and deletes a user; the deleted user is sent back to sign-in', async () => {
    const carol = {
      name: 'Carol',
      email: 'carol@example.com',
      password: 'carol has a long password',
      role: 'user',
    };
    const added = await admin.evaluate(
      (body) =>
        fetch('/api/v1/auths/add', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.status),
      carol,
    );
    expect(added).toBe(200);
    const [carolCtx, carolPage] = await newPage();
    try {
      await carolPage.goto(server.url);
      await signIn(carolPage, carol);
      await carolPage.getByRole('heading', { name: 'How can I help you today?' }).waitFor();

      await admin.getByRole('link', { name: 'Settings', exact: true }).click();
      await admin.getByRole('link', { name: 'Users', exact: true }).click();
      const role = admin.getByLabel(`Role for ${carol.email}`);
      await role.selectOption('admin');
      const roleOf = () =>
        admin.evaluate(async (email) => {
          const { users } = await fetch('/api/v1/users/').then((r) => r.json());
          return users.find((u: { email: string; role: string }) => u.email === email)?.role;
        }, carol.email);
      await expect.poll(roleOf).toBe('admin');
      // Focus stays on the select that was changed.
      await expect.poll(() => deepActive(admin)).toMatch(/^SELECT#role-/);

      await admin.getByRole('button', { name: `Delete ${carol.email}` }).click();
      await admin.getByRole('button', { name: 'Confirm delete' }).click();
      await expect.poll(() => admin.locator('tr', { hasText: carol.email }).count()).toBe(0);
      await expect.poll(roleOf).toBeUndefined();
      // The deleted row's buttons are gone; focus moves to the next user's role, not to <body>.
      await expect.poll(() => deepActiveName(admin)).toBe(`Role for ${BOB.email}`);
      // On a phone the users table fits: nothing scrolls sideways.
      await admin.setViewportSize({ width: 390, height: 760 });
      try {
        await shot(admin, 'settings-users-phone');
        const overflow = await admin.evaluate(() => {
          const el = document.scrollingElement ?? document.documentElement;
          return el.scrollWidth - el.clientWidth;
        });
        expect(overflow).toBeLessThanOrEqual(0);
      } finally {
        await admin.setViewportSize({ width: 1200, height: 780 });
      }

      // Carol's next call is refused: the app returns to sign-in and says why.
      await carolPage.getByLabel('Message', { exact: true }).fill('still there?');
      await carolPage.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => carolPage.getByRole('heading', { name: /Sign in to/ }).count()).toBe(1);
      expect(await carolPage.getByText('Your session has ended. Please sign in again.').count()).toBe(1);
    } finally {
      await carolCtx.close();
    }
  });

  it('the admin changes the connection URL and verifies it', async () => {
    // Easy to find: the top bar's Settings opens Connections first for an admin.
    await admin.getByRole('link', { name: 'Chat', exact: true }).click();
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await expect.poll(() => admin.getByRole('heading', { name: 'Connections' }).count()).toBe(1);
    const url = admin.getByLabel(/Ollama server URL/);
    await expect.poll(() => url.inputValue()).toBe(ollama.url);
    await url.fill(`${ollama2.url}/`);
    await admin.getByRole('button', { name: 'Verify connection to URL 1' }).press('Enter');
    await expect.poll(() => admin.locator('.result').first().textContent()).toMatch(/Connected/);
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => admin.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    await shot(admin, 'settings-connections');
    expect(await unlabelledControls(admin)).toEqual([]);
    const saved = await admin.evaluate(() => fetch('/ollama/config').then((r) => r.json()));
    expect(saved.OLLAMA_BASE_URLS).toEqual([ollama2.url]);
    // A URL nobody listens on is reported by Verify, with the server's words.
    const closed = `http://127.0.0.1:${await freePort()}`;
    await url.fill(closed);
    await admin.getByRole('button', { name: 'Verify connection to URL 1' }).click();
    await expect.poll(() => admin.locator('.result').first().textContent()).toMatch(/Not reachable/);

    // Every URL has its own Verify; focus follows Add and Remove (keyboard only).
    await admin.getByRole('button', { name: /Add another URL/ }).press('Enter');
    await expect.poll(() => deepActive(admin)).toBe('INPUT#url-1');
    await admin.keyboard.type(ollama.url);
    await admin.getByRole('button', { name: 'Verify connection to URL 2' }).press('Enter');
    await expect.poll(() => admin.locator('.result').nth(1).textContent()).toMatch(/Connected/);
    expect(await admin.locator('.result').first().textContent()).toMatch(/Not reachable/);
    await admin.getByRole('button', { name: 'Save' }).press('Enter');
    await expect
      .poll(() => admin.evaluate(() => fetch('/ollama/config').then((r) => r.json())))
      .toMatchObject({ OLLAMA_BASE_URLS: [closed, ollama.url] });
    await admin.getByRole('button', { name: 'Remove URL 2' }).press('Enter');
    await expect.poll(() => deepActive(admin)).toBe('INPUT#url-0');
  });

  it("a connection's prefix and model list are edited per row and shape the model list", async () => {
    const { normal } = ollama.models;
    await admin.getByLabel(/Ollama server URL/).fill(ollama.url);
    await admin.getByLabel('Prefix ID').fill('lab');
    await admin.getByLabel('Model IDs').fill(` ${normal}, `);
    await admin.getByLabel('Model IDs').press('Tab');
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => admin.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    expect(await unlabelledControls(admin)).toEqual([]);
    const cfg = await admin.evaluate(() => fetch('/ollama/config').then((r) => r.json()));
    expect(cfg).toMatchObject({
      OLLAMA_BASE_URLS: [ollama.url],
      OLLAMA_API_CONFIGS: { '0': { prefix_id: 'lab', model_ids: [normal] } },
    });
    const listed = async () =>
      (
        (await admin.evaluate(() => fetch('/ollama/api/tags').then((r) => r.json()))) as {
          models: { model: string }[];
        }
      ).models.map((m) => m.model);
    expect(await listed()).toEqual([`lab.${normal}`]);
    // Cleared fields are removed, and the list is back to every model under its own name.
    await admin.getByLabel('Prefix ID').fill('');
    await admin.getByLabel('Model IDs').fill('');
    await admin.getByLabel('Model IDs').press('Tab');
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => admin.evaluate(() => fetch('/ollama/config').then((r) => r.json())))
      .toMatchObject({ OLLAMA_API_CONFIGS: { '0': {} } });
    await expect.poll(listed).toContain(normal);
  });

  it('an unreachable Ollama shows the server detail with the hint and a link to Connections', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await admin.getByLabel(/Ollama server URL/).fill(closed);
    await admin.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => admin.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    await admin.getByRole('link', { name: 'Chat', exact: true }).click();
    const banner = admin.getByRole('alert').filter({ hasText: 'Ollama is not reachable.' });
    await expect.poll(() => banner.count()).toBe(1);
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain(closed);
    // The advice for where the server runs (this machine may be a container), as the server computes it.
    const hint = loopbackHint(closed, { place: placeFrom(readPlaceClues()), port: undefined })
      .trim()
      .slice(0, 40);
    expect(text).toContain(hint);
    await shot(admin, 'ollama-unreachable');
    await banner.getByRole('link', { name: 'Open Connections settings' }).click();
    await expect.poll(() => admin.getByRole('heading', { name: 'Connections' }).count()).toBe(1);

    // A user sees the same explanation but no admin link, and no admin settings.
    await bob.getByRole('link', { name: '+ New chat' }).click();
    await bob.reload();
    const bobBanner = bob.getByRole('alert').filter({ hasText: 'Ollama is not reachable.' });
    await expect.poll(() => bobBanner.count()).toBe(1);
    expect(await bobBanner.textContent()).toContain(hint);
    expect(await bobBanner.getByRole('link', { name: 'Open Connections settings' }).count()).toBe(0);
    await bob.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const sections = bob.getByRole('navigation', { name: 'Settings sections' }).getByRole('link');
    await expect.poll(() => sections.allTextContents()).toEqual(['Account']);
  });

  it('every page loaded only same-origin resources under a strict CSP that blocked nothing; no source map is served', async () => {
    expect(foreignRequests).toEqual([]);
    const scripts = [...scriptUrls].map((u) => new URL(u).pathname);
    expect(scripts.length).toBeGreaterThan(0);
    for (const p of scripts) expect(p).toMatch(/^\/assets\/app-[A-Z0-9]{8}\.js$/);
    const page = await fetch(server.url);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(cspViolations).toEqual([]);
    expect((await fetch(`${server.url}${scripts[0]}.map`)).status).toBe(404);
  });
});
