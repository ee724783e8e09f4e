// Small network helpers for bringing the control plane up: free ports and
// raw HTTP(S) probes (cheaper than a full API client while polling).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';

/**
 * n distinct ports that were free a moment ago: all are held open together
 * (so they differ), then released. Callers retry on EADDRINUSE.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (!address || typeof address !== 'object') throw new Error('could not get a free port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface TlsClientOptions {
  ca: string;
  cert: string;
  key: string;
}

export interface ProbeResponse {
  status: number;
  body: string;
}

/** GET with a short timeout; network errors reject. */
export function get(url: string, tls?: TlsClientOptions, timeoutMs = 3000): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      u,
      { method: 'GET', timeout: timeoutMs, agent: false, ...(tls && u.protocol === 'https:' ? tls : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Status code of a request, without reading the body (works for watches, which never end). */
export function responseStatus(url: string, tls?: TlsClientOptions, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      u,
      { method: 'GET', timeout: timeoutMs, agent: false, ...(tls && u.protocol === 'https:' ? tls : {}) },
      (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A request with a body; resolves with status and body text whatever the status. */
export function send(
  method: string,
  url: string,
  body: string,
  contentType: string,
  tls?: TlsClientOptions,
  timeoutMs = 10_000,
): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      u,
      {
        method,
        timeout: timeoutMs,
        agent: false,
        headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
        ...(tls && u.protocol === 'https:' ? tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
