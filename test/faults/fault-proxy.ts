// An HTTPS proxy in front of kube-apiserver that can answer chosen requests
// with a fault instead of forwarding them. It presents the API server's own
// serving certificate (so the cluster CA in the kubeconfig still verifies) and
// forwards everything else, watches included (streamed), with the admin
// client certificate. Two ways to inject faults: rules (the next N matching
// requests get a status), and a chaos plan (chaos.ts: every request may get a
// fault of any kind, until heal()). Every request is logged, so a test can
// measure the client's request rate.
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from '../harness/control-plane.ts';
import { renderKubeconfig } from '../harness/kubeconfig.ts';
import type { ChaosPlan, Fault, ProxiedRequest } from './chaos.ts';

export interface FaultRule {
  /** Which requests to fail. */
  match(req: { method: string; path: string }): boolean;
  /** How many matching requests to fail (then the rule is used up). */
  times: number;
  status: number;
  reason: string;
  message: string;
}

/** One request the proxy received, and the fault it got ('forward' for none). */
export interface LoggedRequest extends ProxiedRequest {
  at: number;
  fault: Fault['kind'];
}

export interface FaultProxy {
  url: string;
  /** A kubeconfig file pointing at the proxy (admin credentials, cluster CA). */
  kubeconfigPath: string;
  addRule(rule: FaultRule): void;
  /** Requests answered with a fault so far. */
  readonly injected: { method: string; path: string; status: number }[];
  /** Every request received, in order. */
  readonly requests: readonly LoggedRequest[];
  /**
   * From now on every request gets the fault the plan picks (rules still come first). The
   * watches already open are ended, so the client must come back through the faults.
   */
  startChaos(plan: ChaosPlan): void;
  /** Ends the chaos: stalled requests are dropped, cut watches stop being cut, the rest is forwarded. */
  heal(): void;
  close(): Promise<void>;
}

function statusBody(code: number, reason: string, message: string, retryAfterSeconds?: number): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
  });
}

/** The ERROR event a failing watch sends, as one NDJSON line. */
function errorEventLine(code: 500 | 410): string {
  const status =
    code === 410
      ? JSON.parse(statusBody(410, 'Expired', 'too old resource version (injected)'))
      : JSON.parse(statusBody(500, 'InternalError', 'an error on the server (injected)'));
  return `${JSON.stringify({ type: 'ERROR', object: status })}\n`;
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
  const requests: LoggedRequest[] = [];
  let chaos: ChaosPlan | undefined;
  /** Requests held without an answer, and watches waiting to be cut: both end at heal(). */
  const stalled = new Set<ServerResponse>();
  const cutTimers = new Set<NodeJS.Timeout>();
  /** Forwarded watches still streaming, each with what ends it cleanly. */
  const openWatches = new Map<ServerResponse, () => void>();

  /** Forwards the request; a watch is cut after `cut.afterMs` (at a line boundary) when given. */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    cut?: Extract<Fault, { kind: 'forward-then-cut' }>,
  ) => {
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
        if (upRes.statusCode === 200 && /[?&]watch=(true|1)(&|$)/.test(req.url ?? '')) {
          openWatches.set(res, () => {
            upRes.unpipe(res);
            upRes.removeAllListeners('data');
            if (!res.writableEnded) res.end();
          });
          res.on('close', () => openWatches.delete(res));
        }
        if (!cut || upRes.statusCode !== 200) {
          upRes.pipe(res);
          return;
        }
        // Whole lines only, so the cut never splits an event.
        let partial = '';
        upRes.setEncoding('utf8');
        upRes.on('data', (chunk: string) => {
          partial += chunk;
          const nl = partial.lastIndexOf('\n');
          if (nl < 0 || res.writableEnded) return;
          res.write(partial.slice(0, nl + 1));
          partial = partial.slice(nl + 1);
        });
        upRes.on('end', () => {
          if (!res.writableEnded) res.end(partial);
        });
        // Ending the response closes it, and its 'close' (below) drops the upstream watch.
        const timer = setTimeout(() => {
          cutTimers.delete(timer);
          if (!res.writableEnded)
            res.end(cut.cut.kind === 'error' ? errorEventLine(cut.cut.code) : undefined);
        }, cut.afterMs);
        cutTimers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          cutTimers.delete(timer);
        });
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
      const watch = /[?&]watch=(true|1)(&|$)/.test(path);
      const rule = rules.find((r) => r.times > 0 && r.match({ method, path }));
      if (!rule) {
        const fault = chaos?.({ method, path, watch }) ?? { kind: 'forward' };
        requests.push({ at: Date.now(), method, path, watch, fault: fault.kind });
        return inject(fault, req, res);
      }
      requests.push({ at: Date.now(), method, path, watch, fault: 'status' });
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

  function inject(fault: Fault, req: IncomingMessage, res: ServerResponse): void {
    if (fault.kind === 'forward' || fault.kind === 'forward-then-cut') {
      forward(req, res, fault.kind === 'forward-then-cut' ? fault : undefined);
      return;
    }
    req.resume();
    switch (fault.kind) {
      case 'status':
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(statusBody(500, 'InternalError', 'an error on the server (injected)'));
        return;
      case 'throttle':
        res.writeHead(429, {
          'Content-Type': 'application/json',
          'Retry-After': String(fault.retryAfterSeconds),
        });
        res.end(statusBody(429, 'TooManyRequests', 'too many requests (injected)', fault.retryAfterSeconds));
        return;
      case 'stall':
        stalled.add(res);
        res.on('close', () => stalled.delete(res));
        return;
      case 'watch-error':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(errorEventLine(fault.code));
        return;
      case 'watch-close':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end();
        return;
    }
  }

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
    requests,
    addRule: (rule) => {
      rules.push(rule);
    },
    startChaos: (plan) => {
      chaos = plan;
      for (const end of openWatches.values()) end();
    },
    heal: () => {
      chaos = undefined;
      for (const res of stalled) res.destroy();
      stalled.clear();
      for (const timer of cutTimers) clearTimeout(timer);
      cutTimers.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of cutTimers) clearTimeout(timer);
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
