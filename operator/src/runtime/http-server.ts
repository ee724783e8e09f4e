// The operator's own HTTP endpoints, on one port (default 8081):
//   GET /metrics  Prometheus text format from the operator's registry
//   GET /healthz  liveness: answering at all proves the event loop runs; plus
//                 the registered liveness checks (e.g. watches not stuck)
//   GET /readyz   readiness: the registered readiness checks (e.g. caches synced)
// Health bodies follow kube-apiserver's style: "ok", or one "[+]name ok" /
// "[-]name failed: detail" line per check (always when failing, or with ?verbose).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthResult {
  ok: boolean;
  detail?: string;
}

export interface HealthCheck {
  name: string;
  check(): HealthResult | Promise<HealthResult>;
}

export interface OperatorHttpServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  registry: Registry;
  liveness?: readonly HealthCheck[];
  readiness?: readonly HealthCheck[];
}

export interface OperatorHttpServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

async function runChecks(checks: readonly HealthCheck[]): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const c of checks) {
    let result: HealthResult;
    try {
      result = await c.check();
    } catch (e) {
      result = { ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
    ok &&= result.ok;
    lines.push(result.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${result.detail ?? 'no detail'}`);
  }
  return { ok, lines };
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(head ? undefined : body);
}

function healthHandler(name: string, checks: readonly HealthCheck[]) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const { ok, lines } = await runChecks(checks);
    const verbose = url.searchParams.has('verbose') || !ok;
    const body = verbose ? `${lines.join('\n')}\n${name} check ${ok ? 'passed' : 'failed'}\n` : 'ok';
    send(res, ok ? 200 : 503, 'text/plain; charset=utf-8', body, req.method === 'HEAD');
  };
}

export function startOperatorHttpServer(opts: OperatorHttpServerOptions): Promise<OperatorHttpServer> {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
    '/metrics': async (req, res) => {
      const text = await opts.registry.metrics();
      send(res, 200, opts.registry.contentType, text, req.method === 'HEAD');
    },
    '/healthz': healthHandler('healthz', opts.liveness ?? []),
    '/readyz': healthHandler('readyz', opts.readiness ?? []),
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (!route) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', false);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
    }
    route(req, res, url).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${String(e)}\n`, false);
      else res.destroy();
    });
  });
  // Probes and scrapes are short; do not let idle keep-alive sockets delay shutdown.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
