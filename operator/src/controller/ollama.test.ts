import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type FetchFn, OllamaProber, probeOllama } from './ollama.ts';

const answer =
  (status: number, body: unknown = {}): FetchFn =>
  async () =>
    new Response(JSON.stringify(body), { status });

describe('probeOllama', () => {
  it('reads the version from /api/version', async () => {
    const seen: string[] = [];
    const f: FetchFn = async (url) => {
      seen.push(url);
      return new Response('{"version":"0.9.1"}');
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

  it('outside the cluster, a name that does not resolve is not called unreachable: the pods resolve Service names', async () => {
    const notFound: FetchFn = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    };
    const url = 'http://ollama.ollama.svc:11434';
    expect(await probeOllama(url, notFound, 1000, false)).toEqual({
      url,
      state: 'notResolvableHere',
      error:
        'GET http://ollama.ollama.svc:11434/api/version failed: ENOTFOUND; the operator runs outside the cluster and cannot resolve cluster DNS names (the WebUI pods can)',
    });
    // In a pod the cluster's DNS answers for Services: a name it does not know is a real problem.
    expect((await probeOllama(url, notFound, 1000, true)).state).toBe('unreachable');
    await expect(new OllamaProber({ fetch: notFound, inCluster: false }).probe([url])).resolves.toMatchObject(
      [{ state: 'notResolvableHere' }],
    );
  });
});

describe('OllamaProber', () => {
  it('caches results per URL for the TTL', async () => {
    let calls = 0;
    let now = 0;
    const prober = new OllamaProber({
      fetch: async () => {
        calls++;
        return new Response('{}');
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

// Issue 14 (low): the probe runs in the operator's pod with the operator's network reach; a URL
// from any WebUI author must not make it follow redirects elsewhere, wait forever or read without bound.
describe('probeOllama against real servers', () => {
  const servers: http.Server[] = [];
  async function serve(handler: http.RequestListener): Promise<string> {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    // A non-loopback name for the loopback address: loopback URLs are not probed at all.
    return `http://127.0.0.1.nip.invalid:${(s.address() as AddressInfo).port}`;
  }
  /** Resolves the test host name to the loopback address, as DNS would resolve an Ollama Service. */
  const viaLoopback: FetchFn = (url, init) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    return fetch(u, init);
  };
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('does not follow a redirect, and says so', async () => {
    let followed = 0;
    const elsewhere = await serve((_req, res) => {
      followed++;
      res.end('{"version":"9.9.9"}');
    });
    const url = await serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.replace('.nip.invalid', '')}/latest/meta-data` });
      res.end();
    });
    const r = await probeOllama(url, viaLoopback, 2000);
    expect(followed).toBe(0);
    expect(r).toMatchObject({ state: 'unreachable' });
    expect(r.state === 'unreachable' && r.error).toMatch(/HTTP 302.*redirects are not followed/);
  });

  it('gives up on a body that never ends within the time box', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"version":"');
      const t = setInterval(() => res.write('9'), 50);
      res.on('close', () => clearInterval(t));
    });
    const started = Date.now();
    const r = await probeOllama(url, viaLoopback, 500);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.state).not.toBe('reachable');
  });

  it('reads at most a small body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"version":"1.0","pad":"${'x'.repeat(8 * 1024 * 1024)}"}`);
    });
    const r = await probeOllama(url, viaLoopback, 2000);
    // Reachable (it answered 200), but the 8 MB answer is not read: no version from it.
    expect(r).toEqual({ url, state: 'reachable' });
  });

  it('refuses a URL with a query or a fragment instead of probing it', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.end('{}');
    });
    for (const bad of [`${url}/?x=1`, `${url}/#frag`]) {
      const r = await probeOllama(bad, viaLoopback, 1000);
      expect(r.state === 'unreachable' && r.error).toMatch(/query or fragment/);
    }
    expect(calls).toBe(0);
  });
});
