/**
 * AIOHTTP_CLIENT_CONNECT_TIMEOUT needs a TCP connect that hangs. A listener
 * that never accepts (a python3 child, since Node always accepts) with its
 * one-slot accept queue filled makes the kernel drop further SYNs, so the
 * next connect stays pending: a black-holed host, on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryConfig, type ProxyApp, ROLE_HEADER, startProxyApp } from './test-app.ts';

const LISTENER = `
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

let child: ChildProcess;
let port: number;
let filler: net.Socket;
let app: ProxyApp;

beforeAll(async () => {
  child = spawn('python3', ['-c', LISTENER], { stdio: ['pipe', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (b: Buffer) => resolve(Number(String(b).trim())));
  });
  filler = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => filler.once('connect', () => r()));
  app = await startProxyApp(
    new MemoryConfig({
      ollamaBaseUrl: `http://127.0.0.1:${port}`,
      connectTimeout: 0.3,
      clientTimeout: 100_000,
      modelListTimeout: 100_000,
    }),
  );
});
afterAll(async () => {
  await app?.close();
  filler?.destroy();
  child?.stdin?.end();
  child?.kill();
});

it('a connect that hangs ends as 502 naming AIOHTTP_CLIENT_CONNECT_TIMEOUT, not the total timeout', async () => {
  const res = await fetch(`${app.url}/ollama/api/chat`, {
    method: 'POST',
    headers: { [ROLE_HEADER]: 'user', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [] }),
  });
  expect(res.status).toBe(502);
  const { detail } = await res.json();
  expect(
    detail.startsWith(
      `Ollama unreachable at http://127.0.0.1:${port}: no connection within 0.3 s (AIOHTTP_CLIENT_CONNECT_TIMEOUT)`,
    ),
  ).toBe(true);
});
