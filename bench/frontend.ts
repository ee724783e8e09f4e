/**
 * Frontend budget: the initial JavaScript's gzipped size and First Contentful
 * Paint in headless Chromium on localhost.
 *
 *   node bench/frontend.ts [--url http://127.0.0.1:8080] [--runs 7] [--json | --markdown]
 *
 * Without --url it builds the frontend if needed and starts the real server
 * (`webui serve`, temp DATA_DIR) on a free port. Each run uses a fresh browser
 * context (empty cache) and reads the `first-contentful-paint` paint entry.
 * "App ready" is when the first screen's heading (onboarding or sign-in) is
 * rendered by the components, i.e. after the bundle ran and /api/config answered.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  ensureFrontendBuilt,
  FRONTEND_DIR,
  freePort,
  launchChromium,
  type RunningServer,
  startServer,
} from '../test/browser/harness.ts';

export const BUDGET = { initialJsGzipBytes: 60 * 1024, fcpMs: 300 } as const;

export interface Stats {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface FrontendBenchResult {
  /** Scripts index.html loads up front (module entry and modulepreloads). */
  initialScripts: string[];
  initialJsBytes: number;
  /** gzip -9 of the initial scripts, as a precompressing server or CDN would send them. */
  initialJsGzipBytes: number;
  fcpMs: Stats;
  appReadyMs: Stats;
  withinBudget: { initialJs: boolean; fcp: boolean };
}

/** The scripts index.html loads before anything else happens. */
export function initialScripts(indexHtml: string): string[] {
  const srcs: string[] = [];
  for (const m of indexHtml.matchAll(/<script[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g))
    srcs.push(m[1] ?? '');
  for (const m of indexHtml.matchAll(/<link[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g))
    srcs.push(m[1] ?? '');
  return srcs.filter(Boolean).map((s) => s.replace(/^\.?\//, ''));
}

export function measureInitialJs(
  buildDir = FRONTEND_DIR,
): Pick<FrontendBenchResult, 'initialScripts' | 'initialJsBytes' | 'initialJsGzipBytes'> {
  const scripts = initialScripts(readFileSync(path.join(buildDir, 'index.html'), 'utf8'));
  if (scripts.length === 0) throw new Error(`${buildDir}/index.html loads no module script`);
  let raw = 0;
  let gz = 0;
  for (const s of scripts) {
    const body = readFileSync(path.join(buildDir, s));
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
  }
  return { initialScripts: scripts, initialJsBytes: raw, initialJsGzipBytes: gz };
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, samples };
}

/** Records when the first screen's heading exists inside the components' shadow roots. */
const APP_READY_PROBE = `(() => {
  const tick = () => {
    const app = document.querySelector('webui-app');
    const screen = app?.shadowRoot?.querySelector('webui-auth, webui-pending, webui-chat');
    if (screen?.shadowRoot?.querySelector('h1')) { window.__appReady = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

export async function measureFrontend(opts: { url?: string; runs?: number; buildDir?: string } = {}) {
  const runs = opts.runs ?? 7;
  let server: RunningServer | undefined;
  let url = opts.url;
  if (!url) {
    await ensureFrontendBuilt();
    server = await startServer({ OLLAMA_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    url = server.url;
  }
  const chromium = await launchChromium();
  try {
    const fcp: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const ctx = await chromium.browser.newContext();
      try {
        const page = await ctx.newPage();
        await page.addInitScript(APP_READY_PROBE);
        await page.goto(url, { waitUntil: 'load' });
        await page.waitForFunction(
          () => (window as unknown as { __appReady?: number }).__appReady !== undefined,
        );
        const [paint, appReady] = await page.evaluate(() => [
          performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
          (window as unknown as { __appReady: number }).__appReady,
        ]);
        if (i === 0) continue; // warm-up: server caches, disk cache of the OS
        fcp.push(Math.round((paint ?? Number.NaN) * 10) / 10);
        ready.push(Math.round((appReady ?? Number.NaN) * 10) / 10);
      } finally {
        await ctx.close();
      }
    }
    const js = measureInitialJs(opts.buildDir ?? FRONTEND_DIR);
    const result: FrontendBenchResult = {
      ...js,
      fcpMs: stats(fcp),
      appReadyMs: stats(ready),
      withinBudget: {
        initialJs: js.initialJsGzipBytes <= BUDGET.initialJsGzipBytes,
        fcp: stats(fcp).median < BUDGET.fcpMs,
      },
    };
    return result;
  } finally {
    await chromium.close();
    await server?.stop();
  }
}

/** Markdown rows for docs/benchmarks.md (for `make bench`). */
export function formatFrontendBench(r: FrontendBenchResult): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const ok = (b: boolean) => (b ? 'yes' : '**no**');
  return [
    '| Frontend metric | Budget | Measured | Within budget |',
    '| --- | --- | --- | --- |',
    `| Initial JS, gzip -9 (${r.initialScripts.join(', ')}) | ≤ ${kb(BUDGET.initialJsGzipBytes)} | ${kb(r.initialJsGzipBytes)} (${kb(r.initialJsBytes)} raw) | ${ok(r.withinBudget.initialJs)} |`,
    `| First Contentful Paint, median of ${r.fcpMs.samples.length} (min–max) | < ${BUDGET.fcpMs} ms | ${r.fcpMs.median} ms (${r.fcpMs.min}–${r.fcpMs.max}) | ${ok(r.withinBudget.fcp)} |`,
    `| App ready (first screen rendered), median | – | ${r.appReadyMs.median} ms (${r.appReadyMs.min}–${r.appReadyMs.max}) | – |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      runs: { type: 'string' },
      json: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
    },
  });
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) {
    console.error(`--runs: expected a positive whole number, got "${values.runs}"`);
    process.exit(2);
  }
  const r = await measureFrontend({ url: values.url, runs });
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
  } else if (values.markdown) {
    console.log(formatFrontendBench(r));
  } else {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const ok = (b: boolean) => (b ? 'within budget' : 'OVER BUDGET');
    console.log(
      `initial JS:  ${kb(r.initialJsGzipBytes)} gzipped (${kb(r.initialJsBytes)} raw; budget ${kb(BUDGET.initialJsGzipBytes)}) ${ok(r.withinBudget.initialJs)}`,
    );
    console.log(
      `FCP:         median ${r.fcpMs.median} ms (min ${r.fcpMs.min}, max ${r.fcpMs.max}, ${r.fcpMs.samples.length} runs; budget < ${BUDGET.fcpMs} ms) ${ok(r.withinBudget.fcp)}`,
    );
    console.log(`app ready:   median ${r.appReadyMs.median} ms (first screen rendered by the components)`);
  }
  if (!r.withinBudget.initialJs || !r.withinBudget.fcp) process.exitCode = 1;
}
