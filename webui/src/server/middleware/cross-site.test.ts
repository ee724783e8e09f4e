import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossSiteGuard } from './cross-site.ts';
import { errorHandler } from './error-handler.ts';

const servers: { close(): void; closeAllConnections(): void }[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function guarded(allowedOrigins: string[]): Promise<string> {
  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(crossSiteGuard({ allowedOrigins }));
  app.use(async (ctx) => {
    ctx.body = { ok: true };
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((r) => server.once('listening', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('crossSiteGuard', () => {
  let url: string;
  let listed: string;
  let any: string;
  beforeAll(async () => {
    url = await guarded([]);
    listed = await guarded(['http://dev.example:5173']);
    any = await guarded(['*']);
  });
  const status = async (base: string, method: string, headers: Record<string, string>) =>
    (await fetch(base, { method, headers })).status;

  it('refuses unsafe methods a browser sends from another site or origin (Sec-Fetch-Site)', async () => {
    for (const site of ['cross-site', 'same-site'])
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
        expect(await status(url, method, { 'sec-fetch-site': site }), `${method} ${site}`).toBe(403);
  });

  it('lets through same-origin and user-initiated requests, and every safe method', async () => {
    expect(await status(url, 'POST', { 'sec-fetch-site': 'same-origin' })).toBe(200);
    expect(await status(url, 'POST', { 'sec-fetch-site': 'none' })).toBe(200);
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      expect(await status(url, method, { 'sec-fetch-site': 'cross-site' }), method).toBe(200);
  });

  it('without Sec-Fetch-Site, compares Origin with Host (or X-Forwarded-Host behind the forwarder)', async () => {
    const host = new URL(url).host;
    expect(await status(url, 'POST', { origin: `http://${host}` })).toBe(200);
    expect(await status(url, 'POST', { origin: 'http://evil.example' })).toBe(403);
    expect(await status(url, 'POST', { origin: 'null' })).toBe(403);
    expect(
      await status(url, 'POST', { origin: 'https://chat.example', 'x-forwarded-host': 'chat.example' }),
    ).toBe(200);
    // Neither header: not a browser (curl, the SDKs), so no cookie was borrowed.
    expect(await status(url, 'POST', {})).toBe(200);
  });

  it('trusts the origins listed in CORS_ALLOW_ORIGIN, and with * only calls that carry no cookie', async () => {
    const fromDev = { 'sec-fetch-site': 'same-site', origin: 'http://dev.example:5173' };
    expect(await status(listed, 'POST', fromDev)).toBe(200);
    expect(await status(listed, 'POST', { ...fromDev, origin: 'http://other.example' })).toBe(403);
    const fromAnywhere = { 'sec-fetch-site': 'cross-site', origin: 'https://tool.example' };
    expect(await status(any, 'POST', fromAnywhere)).toBe(200);
    expect(await status(any, 'POST', { ...fromAnywhere, cookie: 'token=abc' })).toBe(403);
  });
});
