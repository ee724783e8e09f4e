import type { Context } from 'koa';
import { badRequest, HttpError } from '../http-error.ts';

/** Chat requests carry base64 images; Ollama itself accepts large bodies. */
export const PROXY_BODY_LIMIT = 64 * 1024 * 1024;

/**
 * Reads a JSON request body for a proxied call. Unlike the API's reader it
 * ignores Content-Type, because Ollama does and its clients (curl -d) rely on
 * that. A body already parsed by an earlier middleware is used as is.
 */
export async function readProxyBody(ctx: Context, limit = PROXY_BODY_LIMIT): Promise<unknown> {
  const preParsed = (ctx.request as { body?: unknown }).body;
  if (preParsed !== undefined) return preParsed;
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new HttpError(413, `Request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `Request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
}
