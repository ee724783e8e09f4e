/**
 * Headers across the /ollama proxy, against a hand-written upstream that
 * sends what Ollama itself never does: hop-by-hop headers (RFC 9110 §7.6.1),
 * including one named by its Connection header, and an unusual 2xx status.
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
  it('keeps the upstream status and end-to-end headers, drops hop-by-hop ones both ways', async () => {
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
    expect(res.headers.get('x-ollama-extra')).toBe('kept');
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
