import { request } from './api.ts';
import { readNdjson } from './ndjson.ts';

export interface ChatTurn {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

/** How an answer ended: finished, stopped by the user, or cut by the server (with its reason). */
export type StreamEnd = { kind: 'done' } | { kind: 'stopped' } | { kind: 'cut'; reason: string };

/**
 * Interprets Ollama's /api/chat NDJSON lines. Pure, so the rules (a line with
 * `error` means the server cut the answer; a stream that ends without
 * `done: true` was cut too) are tested without a network.
 */
export async function consumeChatLines(
  lines: AsyncIterable<unknown>,
  onDelta: (text: string) => void,
): Promise<StreamEnd> {
  for await (const line of lines) {
    if (!line || typeof line !== 'object') continue;
    const l = line as { error?: unknown; done?: unknown; message?: { content?: unknown } };
    if (l.error !== undefined) return { kind: 'cut', reason: String(l.error) };
    const content = l.message?.content;
    if (typeof content === 'string' && content) onDelta(content);
    if (l.done === true) return { kind: 'done' };
  }
  return { kind: 'cut', reason: 'The connection closed before the answer was complete.' };
}

/** Streams one answer; errors before the first byte (401, 502, …) throw ApiError. */
export async function streamChat(
  model: string,
  messages: ChatTurn[],
  signal: AbortSignal,
  onDelta: (text: string) => void,
): Promise<StreamEnd> {
  try {
    const res = await request('/ollama/api/chat', { body: { model, messages, stream: true }, signal });
    if (!res.body) return { kind: 'cut', reason: 'The server sent an empty answer.' };
    return await consumeChatLines(readNdjson(res.body), onDelta);
  } catch (err) {
    if (signal.aborted) return { kind: 'stopped' };
    throw err;
  }
}
