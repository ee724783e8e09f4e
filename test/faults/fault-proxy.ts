// An HTTPS proxy in front of kube-apiserver that can answer chosen requests
// with a fault instead of forwarding them. It presents the API server's own
// serving certificate (so the cluster CA in the kubeconfig still verifies) and
// forwards everything else, watches included (streamed), with the admin
// client certificate.
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from '../harness/control-plane.ts';
import { renderKubeconfig } from '../harness/kubeconfig.ts';

export interface FaultRule {
  /** Which requests to fail. */
  match(req: { method: string; path: string }): boolean;
  /** How many matching requests to fail (then the rule is used up). */
  times: number;
  status: number;
  reason: string;
  message: string;
}

export interface FaultProxy {
  url: string;
  /** A kubeconfig file pointing at the proxy (admin credentials, cluster CA). */
  kubeconfigPath: string;
  addRule(rule: FaultRule): void;
  /** Requests answered with a fault so far. */
  readonly injected: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

function b64decode(s: string | undefined): string {
  return s ? Buffer.from(s, 'base64').toString('utf8') : '';
}

export interface FaultProxyOptions {
  /** Appended to every forwarded User-Agent as " (via <tag>)", so audit events tell clients apart. */
  tag?: string;
}

export async function startFaultProxy(cp: ControlPlane, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const user = cp.kubeConfig.getCurrentUser();
  const clientCert = b64decode(user?.certData);
  const clientKey = b64decode(user?.keyData);
  if (!clientCert || !clientKey)
    throw new Error('fault proxy: the admin kubeconfig has no client certificate');
  const upstream = new URL(cp.server);
  const rules: FaultRule[] = [];
  const injected: FaultProxy['injected'] = [];

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const up = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          host: upstream.host,
          ...(opts.tag ? { 'user-agent': `${req.headers['user-agent'] ?? ''} (via ${opts.tag})` } : {}),
        },
        ca: cp.caPem,
        cert: clientCert,
        key: clientKey,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        // A watch sends its headers at once and then may stay quiet: pass them on now.
        res.flushHeaders();
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  };

  const server: Server = createServer(
    {
      cert: readFileSync(join(cp.dir, 'pki/apiserver.crt')),
      key: readFileSync(join(cp.dir, 'pki/apiserver.key')),
    },
    (req, res) => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const rule = rules.find((r) => r.times > 0 && r.match({ method, path }));
      if (!rule) return forward(req, res);
      rule.times -= 1;
      injected.push({ method, path, status: rule.status });
      req.resume();
      res.writeHead(rule.status, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: rule.message,
          reason: rule.reason,
          code: rule.status,
        }),
      );
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigPath = join(cp.dir, `fault-proxy-${(server.address() as AddressInfo).port}.kubeconfig`);
  writeFileSync(
    kubeconfigPath,
    renderKubeconfig({
      server: url,
      caPem: cp.caPem,
      user: { clientCertPem: clientCert, clientKeyPem: clientKey },
    }),
    { mode: 0o600 },
  );
  return {
    url,
    kubeconfigPath,
    injected,
    addRule: (rule) => {
      rules.push(rule);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The message kube-apiserver gives for an optimistic-concurrency conflict. */
export function conflictRule(match: FaultRule['match'], times: number): FaultRule {
  return {
    match,
    times,
    status: 409,
    reason: 'Conflict',
    message:
      'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
  };
}
