/**
 * Splits a byte stream into JSON lines as they arrive. Kept free of DOM and
 * fetch so it can be unit-tested with hand-made chunks.
 */
export class NdjsonDecoder {
  #buffer = '';
  readonly #text = new TextDecoder();

  /** Feeds bytes; returns every complete line parsed so far. */
  push(chunk: Uint8Array): unknown[] {
    this.#buffer += this.#text.decode(chunk, { stream: true });
    const lines = this.#buffer.split('\n');
    this.#buffer = lines.pop() ?? '';
    return lines.flatMap(parseLine);
  }

  /** Flushes a last line that had no trailing newline. */
  end(): unknown[] {
    const rest = this.#buffer + this.#text.decode();
    this.#buffer = '';
    return parseLine(rest);
  }
}

function parseLine(line: string): unknown[] {
  const trimmed = line.trim();
  if (!trimmed) return [];
  try {
    return [JSON.parse(trimmed)];
  } catch {
    // A garbled line must not hide the rest of the answer; report it as a cut.
    return [{ error: 'The server sent a line that is not valid JSON.' }];
  }
}

export async function* readNdjson(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new NdjsonDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* decoder.push(value);
    }
    yield* decoder.end();
  } finally {
    reader.releaseLock();
  }
}
