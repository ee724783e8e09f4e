import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db/orm.ts';
import { errorHandler } from '../middleware/error-handler.ts';
import { RouteRegistry } from '../openapi/registry.ts';
import type { Lifecycle, Services } from '../services.ts';
import { healthRouter } from './health.ts';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** The health routes over stand-in services: only what they read. */
async function start(parts: { database?: Partial<Database>; lifecycle?: Lifecycle }) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const svc = {
    mode: 'api',
    frontend: undefined,
    logger,
    lifecycle: parts.lifecycle ?? { ready: true },
    database: () => parts.database as Database | undefined,
  } as unknown as Services;
  const app = new Koa();
  app.use(errorHandler(logger));
  app.use(healthRouter(svc, new RouteRegistry()).routes());
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((r) => server.once('listening', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines };
}

describe('health answers to anonymous callers', () => {
  it('GET /health/db does not tell where the database is; the log does', async () => {
    const cause = 'connect ECONNREFUSED 10.1.2.3:5432';
    const { url, lines } = await start({ database: { ping: async () => Promise.reject(new Error(cause)) } });
    const res = await fetch(`${url}/health/db`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toMatch(/10\.1\.2\.3|5432|ECONNREFUSED/);
    expect(JSON.parse(text)).toEqual({ detail: 'Database unreachable' });
    expect(lines.some((l) => String(l.reason).includes(cause))).toBe(true);
  });

  it('GET /ready does not repeat a startup failure that names the database host', async () => {
    const { url } = await start({
      lifecycle: { ready: false, failure: 'Database startup failed: connect ECONNREFUSED 10.1.2.3:5432' },
    });
    const res = await fetch(`${url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.text()).not.toMatch(/10\.1\.2\.3|ECONNREFUSED/);
  });
});
