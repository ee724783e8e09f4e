import { describe, expect, it } from 'vitest';
import { type FetchFn, OllamaProber, probeOllama } from './ollama.ts';

const answer =
  (status: number, body: unknown = {}): FetchFn =>
  async () => ({ ok: status < 300, status, json: async () => body });

describe('probeOllama', () => {
  it('reads the version from /api/version', async () => {
    const seen: string[] = [];
    const f: FetchFn = async (url) => {
      seen.push(url);
      return { ok: true, status: 200, json: async () => ({ version: '0.9.1' }) };
    };
    expect(await probeOllama('http://o:11434/', f, 1000)).toEqual({
      url: 'http://o:11434/',
      state: 'reachable',
      version: '0.9.1',
    });
    expect(seen).toEqual(['http://o:11434/api/version']);
  });

  it('does not probe loopback URLs', async () => {
    const f: FetchFn = async () => {
      throw new Error('must not be called');
    };
    expect((await probeOllama('http://localhost:11434', f, 1000)).state).toBe('loopback');
  });

  it('counts an auth challenge as reachable and other errors as unreachable', async () => {
    expect((await probeOllama('http://o:1', answer(401), 1000)).state).toBe('reachable');
    expect(await probeOllama('http://o:1', answer(502), 1000)).toMatchObject({
      state: 'unreachable',
      error: 'GET http://o:1/api/version answered HTTP 502',
    });
    const refused: FetchFn = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    };
    expect(await probeOllama('http://o:1', refused, 1000)).toMatchObject({
      state: 'unreachable',
      error: 'GET http://o:1/api/version failed: ECONNREFUSED',
    });
  });
});

describe('OllamaProber', () => {
  it('caches results per URL for the TTL', async () => {
    let calls = 0;
    let now = 0;
    const prober = new OllamaProber({
      fetch: async () => {
        calls++;
        return { ok: true, status: 200, json: async () => ({}) };
      },
      ttlMs: 1000,
      now: () => now,
    });
    await prober.probe(['http://a:1', 'http://a:1']);
    await prober.probe(['http://a:1']);
    expect(calls).toBe(1);
    now = 1500;
    await prober.probe(['http://a:1']);
    expect(calls).toBe(2);
  });
});
