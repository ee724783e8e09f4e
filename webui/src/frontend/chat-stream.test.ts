import { describe, expect, it } from 'vitest';
import { consumeChatLines } from './chat-stream.ts';
import { NdjsonDecoder, readNdjson } from './ndjson.ts';

const enc = new TextEncoder();

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function collect(chunks: string[]) {
  const deltas: string[] = [];
  const end = await consumeChatLines(readNdjson(streamOf(chunks)), (d) => deltas.push(d));
  return { deltas, end };
}

describe('NdjsonDecoder', () => {
  it('joins lines split across chunks, including a multi-byte character cut in half', () => {
    const d = new NdjsonDecoder();
    const bytes = enc.encode('{"a":"é"}\n{"b":');
    expect(d.push(bytes.slice(0, 8))).toEqual([]);
    expect(d.push(bytes.slice(8))).toEqual([{ a: 'é' }]);
    expect(d.push(enc.encode('2}'))).toEqual([]);
    expect(d.end()).toEqual([{ b: 2 }]);
  });

  it('reports a garbled line as an error instead of throwing', () => {
    const d = new NdjsonDecoder();
    expect(d.push(enc.encode('not json\n'))).toEqual([
      { error: 'The server sent a line that is not valid JSON.' },
    ]);
  });
});

describe('consumeChatLines', () => {
  it('emits each token and finishes on done', async () => {
    const r = await collect([
      '{"message":{"role":"assistant","content":"Hel"},"done":false}\n{"message":{"role":"assistant","content":"lo"},',
      '"done":false}\n{"message":{"role":"assistant","content":""},"done":true}\n',
    ]);
    expect(r).toEqual({ deltas: ['Hel', 'lo'], end: { kind: 'done' } });
  });

  it('marks an answer cut by an {"error"} line, with the reason', async () => {
    const r = await collect([
      '{"message":{"content":"part"},"done":false}\n{"error":"upstream timed out after 5s"}\n',
    ]);
    expect(r).toEqual({ deltas: ['part'], end: { kind: 'cut', reason: 'upstream timed out after 5s' } });
  });

  it('treats a stream that ends without done as cut', async () => {
    const r = await collect(['{"message":{"content":"part"},"done":false}\n']);
    expect(r.end.kind).toBe('cut');
  });
});
