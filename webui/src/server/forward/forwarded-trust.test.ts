// The frontend forwarder applies FORWARDED_ALLOW_IPS to what it passes on (issue 14, finding 2): the
// backend behind it trusts it, so whatever it sends as X-Forwarded-* is believed there.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardTo } from './forward.ts';

let backend: http.Server;
let backendUrl: string;
const servers: http.Server[] = [];
let last: http.IncomingHttpHeaders = {};

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A forwarder (frontend mode) in front of the echo backend, trusting `trusted`. */
async function forwarder(trusted: readonly string[]): Promise<string> {
  const app = new Koa();
  app.silent = true;
  app.use(forwardTo(backendUrl, pino({ level: 'silent' }), '', trusted));
  const server = http.createServer(app.callback());
  servers.push(server);
  return listen(server);
}

async function send(url: string, headers: Record<string, string>): Promise<http.IncomingHttpHeaders> {
  const res = await fetch(`${url}/api/x`, { headers });
  expect(res.status).toBe(200);
  await res.text();
  return last;
}

beforeAll(async () => {
  backend = http.createServer((req, res) => {
    last = req.headers;
    res.end('{}');
  });
  backendUrl = await listen(backend);
});
afterAll(async () => {
  for (const s of [...servers, backend]) await new Promise((r) => s.close(r));
});

describe('the forwarder passes on X-Forwarded-* by its trust rules', () => {
  it('behind a trusted proxy (an ingress): the client the proxy saw, one entry, and its proto and host', async () => {
    const url = await forwarder(['127.0.0.0/8']);
    const seen = await send(url, {
      'x-forwarded-for': '6.6.6.6, 198.51.100.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'chat.example.com',
    });
    // Not "…, 127.0.0.1": the backend would then see every user as the ingress.
    expect(seen['x-forwarded-for']).toBe('198.51.100.7');
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(seen['x-forwarded-host']).toBe('chat.example.com');
  });

  it('from an untrusted client: its own address and view, none of the headers the client sent', async () => {
    const url = await forwarder(['10.0.0.0/8']);
    const seen = await send(url, {
      'x-forwarded-for': '198.51.100.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    });
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(new URL(url).host);
  });
});
