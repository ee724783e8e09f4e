import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import Koa from 'koa';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteRegistry } from '../openapi/registry.ts';
import { StatusTrue } from '../openapi/responses.ts';
import { routeBinder } from '../openapi/route.ts';
import { apiNotFound } from './api-not-found.ts';
import { errorHandler } from './error-handler.ts';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** Two documented routes on one path plus one with a parameter, behind the middleware as app.ts mounts it. */
async function start() {
  const registry = new RouteRegistry();
  const router = new Router({ prefix: '/api/v1/things' });
  const route = routeBinder(router, registry, { prefix: '/api/v1/things', tag: 't' });
  const ok = async () => ({ status: true as const });
  route({ method: 'get', path: '/', summary: 'list', access: 'public', response: { json: StatusTrue } }, ok);
  route({ method: 'post', path: '/', summary: 'add', access: 'public', response: { json: StatusTrue } }, ok);
  route(
    { method: 'delete', path: '/:id', summary: 'rm', access: 'public', response: { json: StatusTrue } },
    ok,
  );
  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(apiNotFound((path) => registry.methodsAt(path)));
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((r) => server.once('listening', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** node:http, because fetch refuses TRACE. */
function send(
  url: string,
  method: string,
): Promise<{ status: number; allow: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a method a path does not serve', () => {
  it('is 405 with Allow, for known paths with or without a trailing slash and with parameters', async () => {
    const url = await start();
    for (const [method, path, allow] of [
      ['PUT', '/api/v1/things', 'GET, HEAD, POST'],
      ['PATCH', '/api/v1/things/', 'GET, HEAD, POST'],
      ['TRACE', '/api/v1/things', 'GET, HEAD, POST'],
      ['OPTIONS', '/api/v1/things/7/', 'DELETE'],
      ['GET', '/api/v1/things/42', 'DELETE'],
    ] as const) {
      const res = await send(`${url}${path}`, method);
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.allow).toBe(allow);
      expect(JSON.parse(res.body)).toEqual({ detail: 'Method Not Allowed' });
    }
  });

  it('leaves served methods alone, and an unknown API path is still a JSON 404', async () => {
    const url = await start();
    expect((await fetch(`${url}/api/v1/things`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/things`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${url}/api/v1/things/42`, { method: 'DELETE' })).status).toBe(200);
    const unknown = await fetch(`${url}/api/v1/nothing`, { method: 'PUT' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Not Found' });
    // Deeper than the parameter route: not the same route.
    expect((await fetch(`${url}/api/v1/things/42/more`)).status).toBe(404);
  });
});
