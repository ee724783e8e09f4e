// KubeClient against in-process HTTP(S) servers on loopback: pooling, auth,
// timeouts, error bodies, throttling and watch streaming. The real API server
// is exercised by the operator's integration and fault suites.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../../../test/harness/pki.ts';
import { KubeApiError } from './errors.ts';
import type { Credentials, KubeConnection } from './kubeconfig.ts';
import { CONTENT_TYPE, KubeClient, USER_AGENT, withQuery } from './rest.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Handler, server: Server = createHttpServer()) {
  const seen: { req: IncomingMessage; body: string }[] = [];
  let connections = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ req, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return { port, seen, connections: () => connections };
}

function connection(server: string, creds: Credentials = {}, extra: Partial<KubeConnection> = {}) {
  const state = { invalidated: 0 };
  const conn: KubeConnection = {
    server,
    insecure: false,
    credentials: async () => creds,
    invalidate: () => {
      state.invalidated += 1;
    },
    source: 'test',
    ...extra,
  };
  return { conn, state };
}

const json = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('withQuery', () => {
  it('encodes values and skips undefined ones', () => {
    expect(withQuery('/p', { a: 'x y', b: true, c: 3, d: undefined })).toBe('/p?a=x+y&b=true&c=3');
    expect(withQuery('/p', { d: undefined })).toBe('/p');
    expect(withQuery('/p', undefined)).toBe('/p');
  });
});

describe('KubeClient', () => {
  it('reuses one connection across calls and sends auth, User-Agent and Accept', async () => {
    const s = await serve((_q, res) => json(res, 200, { kind: 'Namespace', metadata: { name: 'default' } }));
    const { conn } = connection(`http://127.0.0.1:${s.port}`, { authorization: 'Bearer secret-token' });
    const client = new KubeClient(conn);
    for (let i = 0; i < 10; i++)
      expect(await client.get('/api/v1/namespaces/default')).toMatchObject({ metadata: { name: 'default' } });
    expect(s.connections()).toBe(1);
    const last = s.seen.at(-1)?.req;
    expect(last?.headers.authorization).toBe('Bearer secret-token');
    expect(last?.headers['user-agent']).toBe(USER_AGENT);
    expect(last?.headers.accept).toBe('application/json');
    client.close();
  });

  it('sends a server-side apply as PATCH with its content type, query and JSON body', async () => {
    const s = await serve((_q, res, body) => json(res, 200, JSON.parse(body)));
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } };
    const out = await client.request('PATCH', '/api/v1/namespaces/n/secrets/x', {
      query: { fieldManager: 'webui-operator', force: true },
      body: obj,
      contentType: CONTENT_TYPE.apply,
    });
    expect(out).toEqual(obj);
    const { req, body } = s.seen[0] ?? { req: undefined, body: '' };
    expect(req?.method).toBe('PATCH');
    expect(req?.url).toBe('/api/v1/namespaces/n/secrets/x?fieldManager=webui-operator&force=true');
    expect(req?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(JSON.parse(body)).toEqual(obj);
    client.close();
  });

  it('turns a Status body into a KubeApiError with code, reason and message', async () => {
    const s = await serve((q, res) => {
      if (!q.url?.includes('plain'))
        return json(res, 404, {
          kind: 'Status',
          code: 404,
          reason: 'NotFound',
          message: 'secrets "x" not found',
        });
      res.writeHead(502);
      res.end('bad gateway from a proxy');
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    const err = await client.get('/api/v1/namespaces/n/secrets/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 404, reason: 'NotFound', message: 'secrets "x" not found' });
    await expect(client.get('/plain')).rejects.toMatchObject({
      code: 502,
      message: 'bad gateway from a proxy',
    });
    client.close();
  });

  it('times out a call the server never answers', async () => {
    const s = await serve(() => {});
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn, { timeoutMs: 200 });
    await expect(client.get('/hang')).rejects.toMatchObject({ name: 'TimeoutError' });
    client.close();
  });

  it('retries 429 after Retry-After, and gives up after throttleRetries', async () => {
    let calls = 0;
    const s = await serve((q, res) => {
      calls += 1;
      if (q.url === '/always' || calls < 3)
        return json(res, 429, { reason: 'TooManyRequests', message: 'slow down' }, { 'Retry-After': '0' });
      json(res, 200, { ok: true });
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn, { throttleRetries: 2 });
    await expect(client.get('/once')).resolves.toEqual({ ok: true });
    expect(calls).toBe(3);
    calls = 0;
    await expect(client.get('/always')).rejects.toMatchObject({ code: 429, retryAfterSeconds: 0 });
    expect(calls).toBe(3);
    client.close();
  });

  it('spends one token per request: a burst at once, then no more than qps a second', async () => {
    const s = await serve((_q, res) => json(res, 200, {}));
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn, { qps: 10, burst: 2 });
    const started = performance.now();
    for (let i = 0; i < 6; i++) await client.get('/x');
    // 2 from the burst, then 4 at 10 a second.
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    client.close();
  });

  it('takes a token for a watch too', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200);
      res.end();
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn, { qps: 5, burst: 1 });
    const started = performance.now();
    for (let i = 0; i < 3; i++) {
      const ended = new Promise((r) => client.watch('/w', {}, () => {}, r));
      await ended;
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    client.close();
  });

  it('drops cached credentials after a 401 so the next call fetches fresh ones', async () => {
    const s = await serve((_q, res) => json(res, 401, { reason: 'Unauthorized', message: 'Unauthorized' }));
    const { conn, state } = connection(`http://127.0.0.1:${s.port}`, { authorization: 'Bearer old' });
    const client = new KubeClient(conn);
    await expect(client.get('/x')).rejects.toMatchObject({ code: 401 });
    expect(state.invalidated).toBe(1);
    client.close();
  });

  it('verifies the server against the CA and presents the client certificate over TLS', async () => {
    const ca = createCertificateAuthority();
    const serverCert = issueCertificate(ca, {
      subject: { commonName: 'api' },
      usage: 'server',
      hosts: ['127.0.0.1'],
    });
    const clientCert = issueCertificate(ca, { subject: { commonName: 'operator' }, usage: 'client' });
    const tls = createHttpsServer({
      cert: serverCert.certPem,
      key: serverCert.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    const s = await serve((q, res) => {
      const peer = (q.socket as TLSSocket).getPeerCertificate();
      const authorized = (q.socket as TLSSocket).authorized;
      json(res, 200, { user: authorized ? peer.subject?.CN : null });
    }, tls);
    const url = `https://127.0.0.1:${s.port}`;
    const good = new KubeClient(
      connection(
        url,
        { cert: Buffer.from(clientCert.certPem), key: Buffer.from(clientCert.keyPem) },
        { ca: Buffer.from(ca.certPem) },
      ).conn,
    );
    expect(await good.get('/whoami')).toEqual({ user: 'operator' });
    good.close();
    // Without the CA the server's certificate is refused.
    const untrusted = new KubeClient(connection(url).conn);
    await expect(untrusted.get('/whoami')).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/),
    });
    untrusted.close();
    // insecure-skip-tls-verify accepts it (and no client certificate is sent).
    const insecure = new KubeClient(connection(url, {}, { insecure: true }).conn);
    expect(await insecure.get('/whoami')).toEqual({ user: null });
    insecure.close();
  });
});

describe('KubeClient.watch', () => {
  function collect() {
    const events: string[] = [];
    let resolveDone: (e: unknown) => void = () => {};
    const done = new Promise<unknown>((r) => {
      resolveDone = r;
    });
    return {
      events,
      done,
      onEvent: (type: string, obj: unknown) =>
        events.push(`${type} ${(obj as { metadata?: { name?: string } }).metadata?.name ?? ''}`),
      onDone: (e: unknown) => resolveDone(e),
    };
  }

  it('streams NDJSON events split across chunks and ends with null when the server closes', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const a = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } });
      const b = JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } });
      res.write(`${a}\n${b.slice(0, 10)}`);
      setTimeout(() => res.end(`${b.slice(10)}\n`), 20);
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    const c = collect();
    await client.watch(
      '/apis/apps/v1/deployments',
      { resourceVersion: '5', allowWatchBookmarks: true },
      c.onEvent,
      c.onDone,
    );
    expect(await c.done).toBeNull();
    expect(c.events).toEqual(['ADDED a', 'BOOKMARK ']);
    expect(s.seen[0]?.req.url).toBe(
      '/apis/apps/v1/deployments?resourceVersion=5&allowWatchBookmarks=true&watch=true',
    );
    client.close();
  });

  it('asks for metadata only when told to, for lists and watches', async () => {
    const s = await serve((req, res) => {
      if (req.url?.includes('watch=true')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
      } else json(res, 200, { kind: 'PartialObjectMetadataList', items: [] });
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    await client.get('/api/v1/secrets', { limit: 5 }, CONTENT_TYPE.metadataList);
    const c = collect();
    await client.watch('/api/v1/secrets', {}, c.onEvent, c.onDone, CONTENT_TYPE.metadata);
    expect(await c.done).toBeNull();
    expect(s.seen.map((x) => x.req.headers.accept)).toEqual([
      'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
      'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    ]);
    client.close();
  });

  it('reports a non-200 answer (410 Gone) as a KubeApiError', async () => {
    const s = await serve((_q, res) =>
      json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }),
    );
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    const c = collect();
    await client.watch('/w', {}, c.onEvent, c.onDone);
    expect(await c.done).toMatchObject({ code: 410, reason: 'Expired' });
    client.close();
  });

  it('aborts a silent watch after watchIdleMs with a TimeoutError, and resets the timer on data', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200);
      // Data every 40 ms for 200 ms, then silence.
      let n = 0;
      const t = setInterval(() => {
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: `m${n++}` } } })}\n`);
        if (n === 5) clearInterval(t);
      }, 40);
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn, { watchIdleMs: 150 });
    const c = collect();
    await client.watch('/w', {}, c.onEvent, c.onDone);
    expect(await c.done).toMatchObject({ name: 'TimeoutError' });
    expect(c.events).toHaveLength(5);
    client.close();
  });

  it('survives a watch aborted from its last event (an ERROR line that ends the stream)', async () => {
    // What an informer does on an ERROR event. The response has ended in the same read, so its
    // socket is on its way back to the pool: an abort that destroyed it with an error would
    // emit that error with nobody listening, and kill the process.
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500 } })}\n`);
    });
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve) => {
          let ctrl: AbortController | undefined;
          let abortRequested = false;
          const onEvent = () => {
            abortRequested = true;
            ctrl?.abort();
          };
          void client
            .watch('/w', {}, onEvent, () => resolve())
            .then((c) => {
              ctrl = c;
              if (abortRequested) c.abort();
            });
        });
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      client.close();
    }
  });

  it("reports a 429 answer to a watch with the server's Retry-After", async () => {
    const s = await serve((_q, res) =>
      json(res, 429, { kind: 'Status', code: 429, reason: 'TooManyRequests' }, { 'Retry-After': '2' }),
    );
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    const c = collect();
    await client.watch('/w', {}, c.onEvent, c.onDone);
    expect(await c.done).toMatchObject({ code: 429, retryAfterSeconds: 2 });
    client.close();
  });

  it('can be aborted before the server answers, and calls done exactly once', async () => {
    const s = await serve(() => {});
    const client = new KubeClient(connection(`http://127.0.0.1:${s.port}`).conn);
    let calls = 0;
    const c = collect();
    const ctrl = await client.watch('/w', {}, c.onEvent, (e) => {
      calls += 1;
      c.onDone(e);
    });
    ctrl.abort();
    expect(await c.done).toMatchObject({ name: 'AbortError' });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
    client.close();
  });

  it('reports a refused connection through done', async () => {
    const s = await serve(() => {});
    const port = s.port;
    servers.pop()?.close();
    const client = new KubeClient(connection(`http://127.0.0.1:${port}`).conn);
    const c = collect();
    await client.watch('/w', {}, c.onEvent, c.onDone);
    expect(await c.done).toMatchObject({ code: 'ECONNREFUSED' });
    client.close();
  });
});

describe('KubeClient when an exec plugin rotates the client certificate', () => {
  it('sends new requests with the new certificate and lets open watches drain on the old one', async () => {
    const ca = createCertificateAuthority();
    const serverCert = issueCertificate(ca, {
      subject: { commonName: 'api' },
      usage: 'server',
      hosts: ['127.0.0.1'],
    });
    const issue = (cn: string) => {
      const c = issueCertificate(ca, { subject: { commonName: cn }, usage: 'client' });
      return { cert: Buffer.from(c.certPem), key: Buffer.from(c.keyPem) };
    };
    const tls = createHttpsServer({
      cert: serverCert.certPem,
      key: serverCert.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const closedSockets: string[] = [];
    tls.on('secureConnection', (socket: TLSSocket) => {
      const cn = String(socket.getPeerCertificate().subject?.CN);
      socket.on('close', () => closedSockets.push(cn));
    });
    let watchResponse: ServerResponse | undefined;
    const s = await serve((q, res) => {
      const cn = String((q.socket as TLSSocket).getPeerCertificate().subject?.CN);
      if (q.url?.includes('watch=true')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        watchResponse = res;
        return;
      }
      json(res, 200, { user: cn });
    }, tls);
    let creds: Credentials = issue('first');
    const client = new KubeClient(
      connection(
        `https://127.0.0.1:${s.port}`,
        {},
        { ca: Buffer.from(ca.certPem), credentials: async () => creds },
      ).conn,
    );
    expect(await client.get('/whoami')).toEqual({ user: 'first' });
    const c = { events: [] as string[], ended: false };
    await client.watch(
      '/w',
      {},
      (type) => c.events.push(type),
      () => {
        c.ended = true;
      },
    );
    while (!watchResponse) await new Promise((r) => setTimeout(r, 5));

    creds = issue('second'); // what an exec plugin hands out after its expiry
    expect(await client.get('/whoami')).toEqual({ user: 'second' });
    // The watch opened with the old certificate is still open and still delivers.
    watchResponse.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.ended).toBe(false);
    expect(c.events).toEqual(['ADDED']);
    expect(closedSockets).not.toContain('first');

    // Once it ends, its connection is closed rather than kept for reuse.
    watchResponse.end();
    for (let i = 0; i < 100 && !closedSockets.includes('first'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(c.ended).toBe(true);
    expect(closedSockets).toContain('first');
    expect(await client.get('/whoami')).toEqual({ user: 'second' });
    client.close();
  });
});
