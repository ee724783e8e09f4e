import type { Context } from 'koa';
import { parseJson, readJsonText } from '../middleware/json-body.ts';

/**
 * Reads a JSON request body for a proxied call, within `limit` bytes
 * (OLLAMA_PROXY_MAX_BODY_MIB). Content-Type must be application/json, as on
 * every JSON route (middleware/json-body.ts): Ollama itself ignores it, but a
 * cookie-authenticated proxy cannot, or a form on another site could post here.
 * An empty body is `{}`; a body already parsed by an earlier middleware is
 * used as is.
 */
export async function readProxyBody(ctx: Context, limit: number): Promise<unknown> {
  const preParsed = (ctx.request as { body?: unknown }).body;
  if (preParsed !== undefined) return preParsed;
  const text = await readJsonText(ctx, limit);
  return text === undefined || text.trim() === '' ? {} : parseJson(text);
}
