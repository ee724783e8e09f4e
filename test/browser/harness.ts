/**
 * Browser-test plumbing: build the frontend when needed, run the real WebUI
 * server (`node webui/bin/webui.ts serve`) on a free loopback port with a temp
 * DATA_DIR, and launch Debian's Chromium through playwright-core.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { buildFrontend, DEFAULT_OUT_DIR } from '../../webui/scripts/build-frontend.ts';
import { logTail, type ManagedProcess, startProcess } from '../harness/process-group.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FRONTEND_DIR = DEFAULT_OUT_DIR;
const FRONTEND_SRC = path.join(ROOT, 'webui/src/frontend');

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** Builds webui/frontend-dist when it is missing or older than the sources. */
export async function ensureFrontendBuilt(): Promise<void> {
  const index = path.join(FRONTEND_DIR, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= (await newestMtime(FRONTEND_SRC))) return;
  await buildFrontend();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  dataDir: string;
  logs: () => string;
  stop: () => Promise<void>;
}

/** Polls until `check` resolves true; throws with the process log when the process exits or time runs out. */
export async function waitUntil(
  what: string,
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitInfo)
      throw new Error(`${what} exited (${JSON.stringify(proc.exitInfo)}):\n${logTail(proc.logPath)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} was not ready in ${timeoutMs} ms:\n${logTail(proc.logPath)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the real server in its own process group (killed at exit even if a
 * test crashes) and waits until /ready answers 200.
 */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'webui-browser-'));
  const logDir = mkdtempSync(path.join(tmpdir(), 'webui-browser-log-'));
  const proc = startProcess('webui', process.execPath, [path.join(ROOT, 'webui/bin/webui.ts'), 'serve'], {
    logPath: path.join(logDir, 'webui.log'),
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      FRONTEND_BUILD_DIR: FRONTEND_DIR,
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop(5000);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  };
  try {
    await waitUntil('webui serve', proc, async () => (await fetch(`${url}/ready`)).ok);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dataDir, logs: () => logTail(proc.logPath, 200), stop };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface RunningBrowser {
  browser: Browser;
  close: () => Promise<void>;
}

/**
 * Debian's Chromium; never downloads a browser. playwright's launch() refuses a
 * --user-data-dir argument because it already gives every launch a fresh
 * temporary profile (mkdtemp) and deletes it on close, which is what we want.
 */
export async function launchChromium(): Promise<RunningBrowser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  return { browser, close: () => browser.close() };
}

/**
 * Controls on the page (through every open shadow root) that have no accessible
 * name: no aria-label/labelledby, no <label>, and no text. A rough check, not a
 * full accessibility audit.
 */
export function unlabelledControls(page: import('playwright-core').Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const visit = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll<HTMLElement>('*')) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (!el.matches('button, a[href], input, select, textarea')) continue;
        if (el.matches('input[type="hidden"]')) continue;
        const labelledBy = el.getAttribute('aria-labelledby');
        const named =
          (el.getAttribute('aria-label') ?? '').trim() !== '' ||
          labelledBy?.split(/\s+/).some((id) => root.getElementById?.(id)?.textContent?.trim()) ||
          ((el as HTMLInputElement).labels?.length ?? 0) > 0 ||
          (el.matches('button, a') && (el.textContent ?? '').trim() !== '');
        if (!named) out.push(el.outerHTML.slice(0, 120));
      }
    };
    visit(document);
    return out;
  });
}

/** Creates the first (admin) account through the onboarding form and waits for the chat screen. */
export async function createAdmin(page: import('playwright-core').Page): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill('Root');
  await page.getByLabel('Email', { exact: true }).fill('root@example.com');
  await page.getByLabel('Password', { exact: true }).fill('a long enough password');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'How can I help you today?' }).waitFor();
}
