import type { Context } from 'koa';
import { HttpError } from '../http-error.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Reads and parses a JSON request body, refusing more than `limit` bytes
 * (413) and anything that is not JSON (400). An empty body is `undefined`.
 * Used per route, so streaming routes (the /ollama proxy) keep their raw body.
 */
export async function readJsonBody(ctx: Context, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new HttpError(413, `Request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new HttpError(413, `Request body is larger than ${limit} bytes`);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = ctx.get('content-type');
  if (type !== '' && !/json/i.test(type))
    throw new HttpError(415, 'Expected a JSON body (Content-Type: application/json)');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON');
  }
}
