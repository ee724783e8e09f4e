import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppState } from '../types.ts';
import { BodyBudget, bodyBudget } from './body-budget.ts';
import { errorHandler } from './error-handler.ts';
import { isJsonType, jsonProblem, MAX_JSON_DEPTH, readJsonBody } from './json-body.ts';

describe('isJsonType', () => {
  it('accepts application/json with or without parameters, and nothing else', () => {
    for (const t of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;x=1',
    ])
      expect(isJsonType(t), t).toBe(true);
    for (const t of [
      '',
      'text/plain',
      'text/plain; application/json',
      'application/jsonx',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/merge-patch+json',
      'text/json',
    ])
      expect(isJsonType(t), t).toBe(false);
  });
});

describe('jsonProblem', () => {
  const nest = (n: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = i % 2 ? { a: v } : [v];
    return v;
  };

  it('allows MAX_JSON_DEPTH levels and refuses one more, without recursing', () => {
    expect(jsonProblem(nest(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonProblem(nest(MAX_JSON_DEPTH + 1))).toMatch(/nested deeper than 64/);
    expect(jsonProblem(nest(200_000))).toMatch(/nested deeper/);
  });

  it('finds NUL in any string or key, at any position', () => {
    expect(jsonProblem({ a: ['x', { b: 'y\u0000' }] })).toMatch(/NUL/);
    expect(jsonProblem({ 'k\u0000': 1 })).toMatch(/NUL/);
    expect(jsonProblem('\u0000')).toMatch(/NUL/);
    expect(
      jsonProblem({ a: 'no nul here \\u0000 (escaped backslash)', n: null, t: true, x: 1.5 }),
    ).toBeUndefined();
  });
});

describe('readJsonBody', () => {
  let server: http.Server;
  let url: string;
  const budget = new BodyBudget(1000);
  beforeAll(async () => {
    const app = new Koa<AppState>();
    app.use(errorHandler(pino({ level: 'silent' })));
    // A signed-in user, as the session middleware would set it.
    app.use(async (ctx, next) => {
      if (ctx.get('x-user') !== '')
        ctx.state.user = { id: ctx.get('x-user'), email: '', name: '', role: 'user' } as AppState['user'];
      await next();
    });
    app.use(bodyBudget(budget));
    app.use(async (ctx) => {
      const got = (await readJsonBody(ctx, 600)) ?? null;
      // Holds the request (and what it took from its user's share) after reading its body.
      if (ctx.get('x-hold') !== '') await new Promise((r) => setTimeout(r, Number(ctx.get('x-hold'))));
      ctx.body = { got };
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const post = (body: string | undefined, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body }),
    });

  it('parses JSON sent as application/json; an empty body is undefined', async () => {
    expect(await (await post('{"a":1}')).json()).toEqual({ got: { a: 1 } });
    expect(await (await post(undefined, { 'content-type': 'text/plain' })).json()).toEqual({ got: null });
  });

  it('refuses other content types with 415 before reading, and closes the connection', async () => {
    const res = await post('{"a":1}', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.headers.get('connection')).toBe('close');
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    expect((await post(`"${'a'.repeat(700)}"`)).status).toBe(413);
    const chunked = await new Promise<number>((resolve) => {
      const req = http.request(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', () => resolve(-1));
      req.write('"');
      req.end(`${'a'.repeat(700)}"`);
    });
    expect(chunked).toBe(413);
  });

  it('answers 400 for bad JSON, NUL and deep nesting', async () => {
    expect((await post('{')).status).toBe(400);
    expect((await (await post('{"a":"\\u0000"}')).json()).detail).toMatch(/NUL/);
    expect((await (await post(`${'['.repeat(100)}${']'.repeat(100)}`)).json()).detail).toMatch(/nested/);
  });

  it("takes a signed-in user's bodies from their share: more at once is 429, and it is given back", async () => {
    const body = JSON.stringify('a'.repeat(550));
    const holding = post(body, { 'x-user': 'u1', 'x-hold': '300' });
    await expect.poll(() => budget.inFlight('u1')).toBe(552);
    const second = await post(body, { 'x-user': 'u1' });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect((await post(body, { 'x-user': 'u2' })).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    expect((await holding).status).toBe(200);
    expect(budget.inFlight('u1')).toBe(0);
    expect((await post(body, { 'x-user': 'u1' })).status).toBe(200);
  });
});

describe('BodyBudget', () => {
  it('refuses what exceeds a user’s share, keeps users apart, and gives back on close', () => {
    const budget = new BodyBudget(100);
    const a = budget.lease('alice');
    const b = budget.lease('alice');
    const c = budget.lease('carol');
    expect(a.take(60)).toBe(true);
    expect(b.take(50)).toBe(false);
    expect(b.take(40)).toBe(true);
    expect(c.take(100)).toBe(true);
    expect(budget.inFlight('alice')).toBe(100);
    a.close();
    a.close();
    expect(budget.inFlight('alice')).toBe(40);
    b.close();
    expect(budget.inFlight('alice')).toBe(0);
  });
});
