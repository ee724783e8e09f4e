import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/runtime-config.ts';
import { HttpError } from '../http-error.ts';
import { errorHandler } from './error-handler.ts';

/** Runs the middleware around a handler that throws `err`; returns what the client would get. */
async function answer(err: unknown) {
  const logged: object[] = [];
  const headers: Record<string, string> = {};
  const ctx = {
    status: 200,
    body: undefined as unknown,
    set: (h: Record<string, string>) => Object.assign(headers, h),
  } as unknown as Context;
  await errorHandler({ error: (obj) => logged.push(obj) })(ctx, async () => {
    throw err;
  });
  return { status: ctx.status, body: ctx.body, headers, logged };
}

describe('errorHandler', () => {
  it('answers a refused settings change with 400 for a bad value and 409 for a setting env owns', async () => {
    expect(await answer(new ConfigError('invalid', 'JWT_EXPIRES_IN: expected a duration'))).toMatchObject({
      status: 400,
      body: { detail: 'JWT_EXPIRES_IN: expected a duration' },
      logged: [],
    });
    expect(await answer(new ConfigError('env-owned', 'ENABLE_SIGNUP is managed'))).toMatchObject({
      status: 409,
      body: { detail: 'ENABLE_SIGNUP is managed' },
      logged: [],
    });
  });

  it('keeps the status, message and headers of an HttpError, and hides anything else behind a logged 500', async () => {
    expect(await answer(new HttpError(429, 'slow down', { 'Retry-After': '3' }))).toMatchObject({
      status: 429,
      body: { detail: 'slow down' },
      headers: { 'Retry-After': '3' },
    });
    const other = await answer(new Error('secret detail'));
    expect(other).toMatchObject({ status: 500, body: { detail: 'Internal Server Error' } });
    expect(other.logged).toHaveLength(1);
  });
});
