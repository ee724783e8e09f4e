// Small network helpers for bringing the control plane up: free ports and
// raw HTTP(S) probes (cheaper than a full API client while polling).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';

/** A port that was free a moment ago (listen on 0, then close). Callers retry on EADDRINUSE. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not get a free port'));
      });
    });
  });
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
