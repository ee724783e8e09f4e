import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { HttpError } from '../http-error.ts';
import type { AppState } from '../types.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Deepest accepted JSON nesting. Request bodies are stringified again on
 * their way (to the database, to Ollama), and JSON.stringify recurses: a few
 * thousand levels overflow the stack. Chats and Ollama options nest a handful.
 */
export const MAX_JSON_DEPTH = 64;

/** `application/json`, optionally with parameters (`; charset=utf-8`), and nothing else. */
const JSON_TYPE = /^\s*application\/json\s*(;.*)?$/i;

export const isJsonType = (contentType: string): boolean => JSON_TYPE.test(contentType);

// A refusal before the body was read: closing the connection spares reading the rest of it.
const refuse = (status: number, detail: string, headers: Record<string, string> = {}) =>
  new HttpError(status, detail, { Connection: 'close', ...headers });

/**
 * Reads a JSON request body as text, refusing up front, before a byte is read:
 * - a body that is not `Content-Type: application/json` (415): an HTML form on
 *   another site can post text/plain, urlencoded or multipart without a CORS
 *   preflight, but never JSON, so this closes that way of forging a request;
 * - a declared length over `limit` (413), and while reading, more than `limit`;
 * - more than the signed-in user's share of request bodies in flight (429,
 *   middleware/body-budget.ts): many large bodies at once exhaust memory.
 * Resolves undefined when there is no body.
 */
export async function readJsonText(ctx: Context, limit: number): Promise<string | undefined> {
  const declared = Number(ctx.get('content-length') || 0);
  const chunked = ctx.req.headers['transfer-encoding'] !== undefined;
  if (declared === 0 && !chunked) return undefined;
  if (!isJsonType(ctx.get('content-type')))
    throw refuse(415, 'Expected a JSON body (Content-Type: application/json)');
  const tooLarge = () => refuse(413, `Request body is larger than ${limit} bytes`);
  if (declared > limit) throw tooLarge();
  const allowance = (ctx.state as AppState).bodyAllowance;
  const tooMany = () =>
    refuse(
      429,
      `Too many large requests at once from this account (at most ${Math.round((allowance?.perUserBytes ?? 0) / 1048576)} MiB of request bodies in flight); retry when earlier ones have finished`,
      { 'Retry-After': '1' },
    );
  // The declared length is taken at once, so a refused request is refused before it is read.
  if (allowance !== undefined && declared > 0 && !allowance.take(declared)) throw tooMany();
  const chunks: Buffer[] = [];
  let size = 0;
  await readChunks(ctx.req, (chunk) => {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    if (allowance !== undefined && chunked && !allowance.take(chunk.length)) throw tooMany();
    chunks.push(chunk);
  });
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * Feeds the request body to `onChunk` as it arrives and resolves at its end. Plain stream events
 * rather than `for await`: the async iterator costs several turns of the event loop per body, and
 * every proxied chat waits for this read. When `onChunk` throws, reading stops there, and the
 * error's answer (sent with `Connection: close`) ends the connection without reading the rest.
 */
function readChunks(req: IncomingMessage, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (err?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err === undefined) resolve();
      else {
        req.pause();
        reject(err);
      }
    };
    const onData = (chunk: Buffer) => {
      try {
        onChunk(chunk);
      } catch (err) {
        stop(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const onEnd = () => stop();
    const onError = (err: Error) => stop(err);
    // The client went away before the end of its body: nothing to answer.
    const onClose = () => {
      if (!req.complete)
        stop(new Error('the client closed the connection before the end of its request body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Parses JSON text; not JSON, a NUL character or too deep a nesting is a 400. */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON');
  }
  const problem = jsonProblem(value);
  if (problem !== undefined) throw new HttpError(400, `The request body ${problem}`);
  return value;
}

/**
 * Why a parsed JSON value is refused, or undefined:
 * - a NUL character in a string or a key: MikroORM inlines values into SQL
 *   text, where NUL ends the statement (a 500 on SQLite, refused by Postgres);
 * - nesting deeper than `maxDepth` containers.
 * Walks with its own stack, so the check itself cannot overflow.
 */
export function jsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const values: unknown[] = [value];
  const depths: number[] = [1];
  for (;;) {
    const v = values.pop();
    const depth = depths.pop();
    if (depth === undefined) return undefined;
    if (typeof v === 'string') {
      if (v.includes('\0')) return 'contains a NUL character (\\u0000)';
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > maxDepth) return `is nested deeper than ${maxDepth} levels`;
    if (Array.isArray(v)) {
      for (const item of v) {
        values.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key in v) {
      if (key.includes('\0')) return 'contains a NUL character (\\u0000)';
      values.push((v as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
}

/**
 * Reads and parses a JSON request body (readJsonText, parseJson). An empty
 * body is `undefined`. Used per route, so the /ollama proxy can read its own
 * way (a larger limit, an empty body as `{}`).
 */
export async function readJsonBody(ctx: Context, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const text = await readJsonText(ctx, limit);
  return text === undefined || text.trim() === '' ? undefined : parseJson(text);
}
