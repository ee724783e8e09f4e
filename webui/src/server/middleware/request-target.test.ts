import net, { type AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNormalisedPath, normalisePath } from '../http/request-target.ts';
import { errorHandler } from './error-handler.ts';
import { requestTarget } from './request-target.ts';

describe('request paths', () => {
  it('knows a dot segment or backslash when it sees one, however it is spelt', () => {
    for (const p of ['/api/../ready', '/api/./x', '/..', '/api/%2e%2e/x', '/api/.%2E/x', '/a\\b', '/api/..'])
      expect(isNormalisedPath(p), p).toBe(false);
    for (const p of ['/', '/api/x', '/.well-known/x', '/a..b/c', '/file.tar.gz', '/api/x...'])
      expect(isNormalisedPath(p), p).toBe(true);
  });

  it('resolves them as a browser would', () => {
    expect(normalisePath('/api/../ready')).toBe('/ready');
    expect(normalisePath('/api/%2e%2e/ready')).toBe('/ready');
    expect(normalisePath('/api\\..\\ready')).toBe('/ready');
    expect(normalisePath('/../../etc')).toBe('/etc');
  });
});

describe('requestTarget', () => {
  let port: number;
  let server: ReturnType<Koa['listen']>;
  beforeAll(async () => {
    const app = new Koa();
    app.use(errorHandler(pino({ level: 'silent' })));
    app.use(requestTarget());
    app.use(async (ctx) => {
      ctx.body = { path: ctx.path, url: ctx.url };
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  /** The status line and body for a request line written as is. */
  const send = (target: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      );
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
      });
      socket.on('end', () =>
        resolve({ status: Number(out.slice(9, 12)), body: out.slice(out.indexOf('\r\n\r\n') + 4) }),
      );
      socket.on('error', reject);
    });

  it('refuses an absolute-form target with 400', async () => {
    expect((await send('http://elsewhere.example/api/x')).status).toBe(400);
  });

  it('refuses NUL in the path or the query with 400', async () => {
    for (const t of ['/api/v1/users/%00', '/api/x?q=a%00b', '/api/%00%00'])
      expect((await send(t)).status, t).toBe(400);
  });

  it('hands on the normalised path, with the query', async () => {
    expect(JSON.parse((await send('/api/../ready?x=1')).body)).toEqual({ path: '/ready', url: '/ready?x=1' });
    expect(JSON.parse((await send('/api/v1/chats/abc')).body)).toEqual({
      path: '/api/v1/chats/abc',
      url: '/api/v1/chats/abc',
    });
  });
});
