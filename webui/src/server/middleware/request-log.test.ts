import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { requestLog } from './request-log.ts';

/** A Koa server with the request log, whose handler streams one chunk and ends when told to. */
async function streamingServer() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  let finish: (() => void) | undefined;
  const app = new Koa();
  app.use(requestLog(createLogger('info', sink)));
  app.use((ctx) => {
    if (ctx.path === '/json') {
      ctx.body = { ok: true };
      return;
    }
    ctx.respond = false;
    ctx.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    ctx.res.write('{"n":1}\n');
    finish = () => ctx.res.end('{"n":2}\n');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    lines,
    end: () => finish?.(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('request log', () => {
  let srv: Awaited<ReturnType<typeof streamingServer>> | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('writes the line after the answer is over, never while a stream is still being sent', async () => {
    srv = await streamingServer();
    const firstChunk = new Promise<http.IncomingMessage>((resolve) => {
      http.get(`${srv?.url}/stream?token=secret`, (res) => res.once('data', () => resolve(res)));
    });
    const res = await firstChunk;
    await tick();
    // The handler has returned long ago; the stream is open, so nothing is logged yet.
    expect(srv.lines).toEqual([]);
    const ended = new Promise((r) => res.on('end', r));
    res.resume();
    srv.end();
    await ended;
    await tick();
    expect(srv.lines).toHaveLength(1);
    expect(srv.lines[0]).toMatchObject({ msg: 'request', method: 'GET', path: '/stream', status: 200 });
    expect(srv.lines[0]).not.toHaveProperty('aborted');
    // The path only: a query string can carry tokens.
    expect(JSON.stringify(srv.lines[0])).not.toContain('secret');
    expect(srv.lines[0]?.ms).toBeGreaterThanOrEqual(15);
  });

  it('logs a JSON answer once it is sent', async () => {
    srv = await streamingServer();
    const res = await fetch(`${srv.url}/json`);
    expect(await res.json()).toEqual({ ok: true });
    await tick();
    expect(srv.lines).toEqual([expect.objectContaining({ path: '/json', status: 200 })]);
  });

  it('marks an answer the client left before its end as aborted', async () => {
    srv = await streamingServer();
    await new Promise<void>((resolve) => {
      const req = http.get(`${srv?.url}/stream`, (res) =>
        res.once('data', () => {
          req.destroy();
          resolve();
        }),
      );
      req.on('error', () => {});
    });
    for (let i = 0; i < 50 && srv.lines.length === 0; i++) await tick();
    expect(srv.lines).toEqual([expect.objectContaining({ path: '/stream', status: 200, aborted: true })]);
  });
});
