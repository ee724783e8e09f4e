import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callUpstream, readUpstreamBody, type UpstreamCall } from './upstream-request.ts';

// A raw HTTP/1.1 server: the first connection answers one request with
// keep-alive, then resets when the next request arrives on it (an idle
// connection the server dropped). Later connections answer normally.
let server: net.Server;
let baseUrl: string;
let connections = 0;
let requestsSeen = 0;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  server = net.createServer((socket) => {
    const n = ++connections;
    sockets.add(socket);
    let served = 0;
    socket.on('data', (d) => {
      if (!d.toString().includes('\r\n\r\n')) return;
      if (n === 1 && served === 1) {
        socket.resetAndDestroy();
        return;
      }
      served++;
      requestsSeen++;
      const body = JSON.stringify({ connection: n });
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  // The proxy's agent keeps its connection open; close it from this side.
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const call = (): UpstreamCall => ({
  baseUrl,
  method: 'GET',
  path: '/api/version',
  headers: {},
  timeouts: { totalMs: 10_000, totalKind: 'modelList', connectMs: 5_000, idleMs: null },
  signal: new AbortController().signal,
});

it('retries once on a fresh connection when a pooled keep-alive connection was reset', async () => {
  const first = await callUpstream(call());
  expect(JSON.parse((await readUpstreamBody(first)).toString())).toEqual({ connection: 1 });
  const second = await callUpstream(call());
  expect(JSON.parse((await readUpstreamBody(second)).toString())).toEqual({ connection: 2 });
  expect(connections).toBe(2);
  expect(requestsSeen).toBe(2);
});
