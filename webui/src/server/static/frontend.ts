import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import { appPath } from '../app-root.ts';

/** The frontend build shipped with this package (webui/frontend-dist), independent of the cwd. */
export const DEFAULT_FRONTEND_DIR = appPath('webui/frontend-dist');

export interface FrontendStatus {
  dir: string;
  present: boolean;
}

export function frontendStatus(configured: string | undefined): FrontendStatus {
  const dir = path.resolve(configured ?? DEFAULT_FRONTEND_DIR);
  return { dir, present: existsSync(path.join(dir, 'index.html')) };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * The page's Content-Security-Policy. The build has no inline script or style
 * (webui/scripts/build-frontend.ts; bench/frontend.test.ts checks it), so
 * scripts, styles and API calls come from this origin only: markup injected
 * into the page (a Markdown renderer's bug) can neither run script nor send
 * data elsewhere. `data:` images for the empty favicon; Lit's component styles
 * are constructed stylesheets, which style-src does not govern.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** esbuild's `[name]-[hash]` output: the content hash makes the file safe to cache forever. */
const HASHED = /[.-][A-Za-z0-9]{8,}\.[a-z0-9]+$/;

/** API-ish paths never fall back to index.html; they get JSON 404s instead. */
export const isApiPath = (p: string) =>
  p === '/api' ||
  p.startsWith('/api/') ||
  p === '/ollama' ||
  p.startsWith('/ollama/') ||
  p === '/openapi.json';

export function cacheControlFor(file: string): string {
  if (path.basename(file) === 'index.html') return 'no-cache';
  return HASHED.test(path.basename(file)) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
}

/**
 * Serves the built frontend: existing files as they are, and index.html for
 * any other GET that is not an API path (client-side routing).
 */
export function serveFrontend(dir: string): Middleware {
  const root = path.resolve(dir);
  return async function serveFrontendMiddleware(ctx, next) {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isApiPath(ctx.path)) return next();
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    let file = path.join(root, rel);
    // Refuse anything that escapes the build directory.
    if (file !== root && !file.startsWith(root + path.sep)) return next();
    let stat = statOrUndefined(file);
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = statOrUndefined(file);
    }
    if (stat === undefined || !stat.isFile()) {
      // Missing assets (anything with an extension) keep their 404; routes get the app.
      if (path.extname(rel) !== '' && path.extname(rel) !== '.html') return next();
      file = path.join(root, 'index.html');
      stat = statOrUndefined(file);
      if (stat === undefined) return next();
    }
    ctx.status = 200;
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.set('Cache-Control', cacheControlFor(file));
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (ctx.type.startsWith('text/html')) {
      // The app is never meant to be framed, and links out should not leak chat URLs.
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'same-origin');
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    }
    ctx.length = stat.size;
    ctx.lastModified = stat.mtime;
    ctx.body = ctx.method === 'HEAD' ? null : createReadStream(file);
  };
}

function statOrUndefined(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** What `/` says when the build is missing, instead of a bare 404. */
export function missingFrontendPage(dir: string): Middleware {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WebUI: frontend not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The frontend has not been built</h1>
<p>The API is running, but there is no frontend build in <code>${escapeHtml(dir)}</code>.</p>
<p>Build it with <code>make frontend</code> (or <code>node webui/scripts/build-frontend.ts</code>), then reload this page.
Set <code>FRONTEND_BUILD_DIR</code> if the build lives elsewhere.</p>
<p>Health: <a href="/health">/health</a> · API: <a href="/openapi.json">/openapi.json</a></p>
</body></html>
`;
  return async function missingFrontendMiddleware(ctx, next) {
    if (
      (ctx.method === 'GET' || ctx.method === 'HEAD') &&
      !isApiPath(ctx.path) &&
      path.extname(ctx.path) === ''
    ) {
      ctx.status = 503;
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      // No script at all; its one inline style attribute is all it needs.
      ctx.set(
        'Content-Security-Policy',
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      );
      ctx.body = html;
      return;
    }
    await next();
  };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
