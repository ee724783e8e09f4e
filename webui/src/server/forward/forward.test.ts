import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../middleware/error-handler.ts';
import { requestId } from '../middleware/request-id.ts';
import { forwardTo } from './forward.ts';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  closedEarly: boolean;
}

let backend: http.Server;
let backendUrl: string;
let proxy: http.Server;
let proxyUrl: string;
const seen: Seen[] = [];
const releases: (() => void)[] = [];

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  backend = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const rec: Seen = {
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
      closedEarly: false,
    };
    seen.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) rec.closedEarly = true;
    });
    if (req.url === '/api/stream') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"n":1}\n');
      await new Promise<void>((r) => releases.push(r));
      if (!res.destroyed) res.end('{"n":2}\n');
      return;
    }
    res.writeHead(201, [
      ['Content-Type', 'application/json'],
      ['Set-Cookie', 'token=abc; HttpOnly'],
      ['Set-Cookie', 'theme=dark'],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', 'secret'],
      ['Keep-Alive', 'timeout=77'],
      ['Proxy-Authenticate', 'Basic'],
      ['X-End', 'yes'],
    ]);
    res.end(JSON.stringify({ path: req.url, method: req.method }));
  });
  backendUrl = await listen(backend);
  const app = new Koa();
  // A client that disconnects mid-stream makes Koa report "Premature close"; expected here.
  app.silent = true;
  app.use(requestId());
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(forwardTo(backendUrl, pino({ level: 'silent' })));
  proxy = http.createServer(app.callback());
  proxyUrl = await listen(proxy);
});
afterAll(async () => {
  for (const r of releases) r();
  for (const s of [proxy, backend]) {
    s?.closeAllConnections();
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  }
});

function raw(
  path: string,
  opts: http.RequestOptions & { body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${proxyUrl}${path}`, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends `request` as written on a fresh socket; resolves with everything the proxy answered. */
function rawHttp(request: string): Promise<string> {
  const { port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    let out = '';
    socket.on('data', (d) => {
      out += d.toString();
    });
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('forwardTo', () => {
  it('sends the request id it answers with to the backend, so both log lines of a request share it', async () => {
    const res = await raw('/api/request-id');
    const rec = seen.findLast((s) => s.path === '/api/request-id');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec?.headers['x-request-id']).toBe(res.headers['x-request-id']);
    await raw('/api/request-id', { headers: { 'x-request-id': 'from-the-client.1' } });
    expect(seen.findLast((s) => s.path === '/api/request-id')?.headers['x-request-id']).toBe(
      'from-the-client.1',
    );
  });

  it('keeps status and end-to-end headers (every Set-Cookie), drops hop-by-hop ones', async () => {
    const res = await raw('/api/v1/auths/signin?x=1', { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({ path: '/api/v1/auths/signin?x=1', method: 'POST' });
    expect(res.headers['set-cookie']).toEqual(['token=abc; HttpOnly', 'theme=dark']);
    expect(res.headers['x-end']).toBe('yes');
    expect(res.headers['x-hop']).toBeUndefined();
    expect(res.headers['proxy-authenticate']).toBeUndefined();
    // Node's own server adds Keep-Alive for our hop; the backend's value must not leak.
    expect(res.headers['keep-alive']).not.toBe('timeout=77');
  });

  it('forwards the request body and credentials, but not hop-by-hop request headers', async () => {
    await raw('/api/echo', {
      method: 'POST',
      body: 'hello body',
      headers: {
        authorization: 'Bearer t',
        cookie: 'token=x',
        connection: 'keep-alive, X-Client-Hop',
        'x-client-hop': '1',
        te: 'trailers',
        'proxy-authorization': 'Basic zzz',
      },
    });
    const rec = seen.findLast((s) => s.body === 'hello body');
    expect(rec?.headers.authorization).toBe('Bearer t');
    expect(rec?.headers.cookie).toBe('token=x');
    expect(rec?.headers['x-client-hop']).toBeUndefined();
    expect(rec?.headers.te).toBeUndefined();
    expect(rec?.headers['proxy-authorization']).toBeUndefined();
    expect(rec?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(rec?.headers.host).toBe(new URL(backendUrl).host);
  });

  it('streams: the first chunk arrives while the backend is still writing; a disconnect reaches the backend', async () => {
    const ac = new AbortController();
    const res = await fetch(`${proxyUrl}/api/stream`, { signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('{"n":1}\n');
    const rec = seen.at(-1) as Seen;
    expect(rec.closedEarly).toBe(false);
    ac.abort();
    await expect.poll(() => rec.closedEarly).toBe(true);
  });

  it('finishes a stream once the backend does', async () => {
    const before = releases.length;
    const pending = fetch(`${proxyUrl}/api/stream`).then((r) => r.text());
    await expect.poll(() => releases.length).toBe(before + 1);
    releases.at(-1)?.();
    expect(await pending).toBe('{"n":1}\n{"n":2}\n');
  });

  it('refuses an absolute-form request target with 400 (not a 500), and forwards nothing', async () => {
    const before = seen.length;
    const head = await rawHttp(
      `GET http://attacker.example/api/x HTTP/1.1\r\nHost: ${new URL(proxyUrl).host}\r\nConnection: close\r\n\r\n`,
    );
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toContain('origin-form');
    expect(seen.length).toBe(before);
  });

  it('never turns a path with dot segments into another path: /api/../ready is not forwarded as /ready', async () => {
    const before = seen.length;
    for (const path of ['/api/../ready', '/api/%2e%2e/ready', '/api/./x', '/api\\..\\ready']) {
      const head = await rawHttp(
        `GET ${path} HTTP/1.1\r\nHost: ${new URL(proxyUrl).host}\r\nConnection: close\r\n\r\n`,
      );
      expect(head, path).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(seen.slice(before).map((s) => s.path)).toEqual([]);
  });

  it('forwards the path and query as they came', async () => {
    await raw('/api/v1/chats/abc?x=1&y=%20z');
    expect(seen.at(-1)?.path).toBe('/api/v1/chats/abc?x=1&y=%20z');
  });

  it('answers 502 {detail} when the backend is unreachable', async () => {
    const app = new Koa();
    app.use(errorHandler(pino({ level: 'silent' })));
    app.use(forwardTo('http://127.0.0.1:1', pino({ level: 'silent' })));
    const srv = http.createServer(app.callback());
    const url = await listen(srv);
    try {
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(502);
      expect((await res.json()).detail).toMatch(
        /^Backend unreachable at http:\/\/127\.0\.0\.1:1: connection refused .*BACKEND_URL/,
      );
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('forwardTo and pooled connections', () => {
  it('sends a bodiless request again when the backend closed the reused keep-alive connection', async () => {
    // Raw backend: the first connection answers once with keep-alive, then resets on the
    // next request (an idle connection closed by the backend); later connections answer.
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((socket) => {
      const n = ++connections;
      sockets.add(socket);
      let served = 0;
      socket.on('data', (d) => {
        if (!d.toString().includes('\r\n\r\n')) return;
        if (n === 1 && served === 1) {
          socket.resetAndDestroy();
          return;
        }
        served++;
        const body = JSON.stringify({ connection: n });
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
      socket.on('error', () => {});
    });
    const rawUrl = await listen(raw);
    const app = new Koa();
    app.use(errorHandler(pino({ level: 'silent' })));
    app.use(forwardTo(rawUrl, pino({ level: 'silent' })));
    const srv = http.createServer(app.callback());
    const url = await listen(srv);
    try {
      expect(await (await fetch(`${url}/api/config`)).json()).toEqual({ connection: 1 });
      const again = await fetch(`${url}/api/config`);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ connection: 2 });
    } finally {
      for (const s of sockets) s.destroy();
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });
});
