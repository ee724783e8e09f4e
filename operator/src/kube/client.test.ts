import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFactory, USER_AGENT } from './client.ts';

// An in-process stand-in for the API server: answers namespace reads, hangs on
// /api/v1/namespaces/hang, and counts TCP connections.
describe('clientFactory', () => {
  let server: Server;
  let connections = 0;
  const seen: IncomingMessage[] = [];
  let kc: KubeConfig;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      if (req.url?.startsWith('/api/v1/namespaces/hang')) return; // never answers
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }));
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u', token: 'secret-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('reuses connections across calls and keeps auth and the User-Agent', async () => {
    const factory = await clientFactory(kc);
    const core = factory.makeApiClient(CoreV1Api);
    const before = connections;
    for (let i = 0; i < 10; i++) await core.readNamespace({ name: 'default' });
    expect(connections - before).toBeLessThanOrEqual(2);
    const last = seen.at(-1);
    expect(last?.headers.authorization).toBe('Bearer secret-token');
    expect(last?.headers['user-agent']).toBe(USER_AGENT);
  });

  it('without the factory, client-node opens a connection per call (the gap this closes)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const before = connections;
    for (let i = 0; i < 5; i++) await core.readNamespace({ name: 'default' });
    expect(connections - before).toBe(5);
  });

  it('times out a call the server never answers', async () => {
    const factory = await clientFactory(kc, 200);
    const core = factory.makeApiClient(CoreV1Api);
    await expect(core.readNamespace({ name: 'hang' })).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
