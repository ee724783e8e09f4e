/**
 * Headers across the /ollama proxy, against a hand-written upstream that
 * sends what Ollama itself never does: hop-by-hop headers (RFC 9110 §7.6.1),
 * including one named by its Connection header, an unusual 2xx status, and
 * headers a hostile Ollama would use against the browser (Set-Cookie, CORS,
 * CSP, a wrong Content-Type).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryConfig, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

let upstream: http.Server;
let app: ProxyApp;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    if (req.url === '/api/generate' || req.url === '/v1/chat/completions') {
      // A hostile Ollama: it tries to replace the session cookie, open CORS, and serve a page.
      res.writeHead(200, {
        'content-type': 'text/html',
        'set-cookie': 'token=attacker-session; Path=/',
        'access-control-allow-origin': '*',
        'access-control-allow-credentials': 'true',
        'content-security-policy': "script-src 'unsafe-inline'",
        'x-frame-options': 'ALLOWALL',
        location: 'http://attacker.example/',
        refresh: '0; url=http://attacker.example/',
      });
      res.end(`${JSON.stringify({ response: '<script>alert(1)</script>', done: true })}\n`);
      return;
    }
    if (req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest' }] }));
      return;
    }
    res.writeHead(203, {
      'content-type': 'application/x-ndjson',
      connection: 'keep-alive, x-upstream-hop',
      'keep-alive': 'timeout=77',
      'x-upstream-hop': 'dropped',
      'proxy-authenticate': 'Basic realm="upstream"',
      'x-ollama-extra': 'kept',
    });
    res.end(`${JSON.stringify({ message: { content: 'hi' }, done: true })}\n`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const { port } = upstream.address() as AddressInfo;
  app = await startProxyApp(new MemoryConfig({ ollamaBaseUrl: `http://127.0.0.1:${port}` }));
});
afterAll(async () => {
  await app?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

describe('headers through /ollama', () => {
  it('passes no upstream response header the browser acts on, and sets the content type itself', async () => {
    for (const [path, body, type] of [
      ['/ollama/api/generate', { model: 'llama3.2', prompt: 'hi' }, 'application/x-ndjson'],
      ['/ollama/api/generate', { model: 'llama3.2', prompt: 'hi', stream: false }, 'application/json'],
      ['/ollama/v1/chat/completions', { model: 'llama3.2', messages: [], stream: true }, 'text/event-stream'],
    ] as const) {
      const res = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ROLE_HEADER]: 'user' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      for (const name of [
        'set-cookie',
        'access-control-allow-origin',
        'access-control-allow-credentials',
        'content-security-policy',
        'x-frame-options',
        'location',
        'refresh',
      ]) {
        expect(res.headers.get(name), `${path} ${name}`).toBeNull();
      }
      expect(res.headers.get('content-type')?.split(';')[0]).toBe(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      await res.text();
    }
    // The proxy's own answers too (the merged model list).
    const tags = await fetch(`${app.url}/ollama/api/tags`, { headers: { [ROLE_HEADER]: 'user' } });
    expect(tags.status).toBe(200);
    expect(tags.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps the upstream status, drops hop-by-hop headers both ways', async () => {
    const res = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [ROLE_HEADER]: 'user',
        connection: 'keep-alive, x-client-hop',
        'x-client-hop': 'dropped',
        'proxy-authorization': 'Basic Y2xpZW50OnNlY3JldA==',
        cookie: 'token=client-session',
      },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(203);
    // Not on the allow-list: an unknown upstream header never reaches the browser.
    expect(res.headers.get('x-ollama-extra')).toBeNull();
    expect(res.headers.get('x-upstream-hop')).toBeNull();
    expect(res.headers.get('proxy-authenticate')).toBeNull();
    expect(res.headers.get('keep-alive') ?? '').not.toContain('77');
    expect(await res.text()).toContain('"done":true');

    const chat = seen.at(-1) as http.IncomingHttpHeaders;
    expect(chat['content-type']).toBe('application/json');
    for (const name of ['x-client-hop', 'proxy-authorization', 'cookie', 'authorization', ROLE_HEADER])
      expect(chat[name], name).toBeUndefined();
  });
});
