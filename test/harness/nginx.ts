/**
 * nginx as the tests and the benchmark run it: Debian's binary unpacked by `make nginx`
 * (scripts/bootstrap/nginx.sh), started with a configuration written here, either as the plain
 * reverse proxy of the latency floor or as a stand-in for an ingress controller, configured from the
 * Ingress the operator renders (paths, path types and Services), with ingress-nginx's forwarding
 * headers. Nothing here touches the host: the process listens on 127.0.0.1 and keeps its pid,
 * temp files and logs in the directory it is given.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Ingress } from '@kubernetes/client-node';
import { freePort } from '../postgres/postgres.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The binary `make nginx` unpacks. */
export function nginxBinary(): string {
  const p = join(ROOT, '.tools/nginx/usr/sbin/nginx');
  if (!existsSync(p))
    throw new Error('nginx is missing: run `make nginx` (unpacks Debian nginx into .tools/nginx)');
  return p;
}

export interface NginxRoute {
  /** As in an Ingress path: Prefix matches whole path segments, Exact the path alone. */
  path: string;
  pathType: 'Prefix' | 'Exact';
  /** Base URL of the server behind it, e.g. http://127.0.0.1:8080. */
  upstream: string;
}

/** `/team/chat` as a regex that matches it as a whole-segment prefix. */
const segmentPrefix = (path: string) => `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`;

/**
 * The configuration: one worker (the Node servers are one process each), access log on (as deployed),
 * keep-alive to every upstream, no buffering either way so tokens pass as they come, and the headers
 * ingress-nginx sets. Routes are matched as an Ingress's: Exact first, then the longest prefix.
 */
export function nginxConfig(opts: { dir: string; listenPort: number; routes: NginxRoute[] }): string {
  const upstreams = [...new Set(opts.routes.map((r) => new URL(r.upstream).host))];
  const upstreamName = (url: string) => `u${upstreams.indexOf(new URL(url).host)}`;
  const temp = (name: string) => join(opts.dir, `nginx-${name}`);
  const proxy = (r: NginxRoute) => `proxy_pass http://${upstreamName(r.upstream)};`;
  const byLength = [...opts.routes].sort((a, b) => b.path.length - a.path.length);
  const locations = byLength.map((r) => {
    if (r.pathType === 'Exact') return `    location = ${r.path} { ${proxy(r)} }`;
    if (r.path === '/') return `    location / { ${proxy(r)} }`;
    return `    location ~ ${segmentPrefix(r.path.replace(/\/+$/, ''))} { ${proxy(r)} }`;
  });
  return `worker_processes 1;
daemon off;
pid ${join(opts.dir, 'nginx.pid')};
error_log ${join(opts.dir, 'nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log ${join(opts.dir, 'nginx-access.log')};
  client_body_temp_path ${temp('client-body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
${upstreams.map((h, i) => `  upstream u${i} { server ${h}; keepalive 64; }`).join('\n')}
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Host $host;
  proxy_set_header X-Real-IP $remote_addr;
  proxy_buffering off;
  proxy_request_buffering off;
  proxy_read_timeout 600s;
  server {
    listen 127.0.0.1:${opts.listenPort};
${locations.join('\n')}
  }
}
`;
}

/**
 * The routes of an Ingress's first rule, each Service mapped to where it runs here
 * (`services`: Service name → base URL).
 */
export function routesFromIngress(ingress: V1Ingress, services: Record<string, string>): NginxRoute[] {
  const paths = ingress.spec?.rules?.[0]?.http?.paths ?? [];
  return paths.map((p) => {
    const name = p.backend.service?.name ?? '';
    const upstream = services[name];
    if (upstream === undefined) throw new Error(`no address for the Service ${name}`);
    if (p.pathType !== 'Prefix' && p.pathType !== 'Exact') throw new Error(`path type ${p.pathType}`);
    return { path: p.path ?? '/', pathType: p.pathType, upstream };
  });
}

export interface RunningNginx {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts nginx on a free port of 127.0.0.1 with `routes`; `dir` holds its config, pid, temp files and logs. */
export async function startNginx(dir: string, routes: NginxRoute[]): Promise<RunningNginx> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ dir, listenPort: port, routes }));
  const proc = spawn(nginxBinary(), ['-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', conf], {
    stdio: ['ignore', openSync(join(dir, 'nginx.out'), 'a'), 'inherit'],
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
  };
  // Listening as soon as its port accepts a connection.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`nginx exited with ${proc.exitCode} (see ${dir}/nginx-error.log)`);
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('nginx did not listen within 10 s');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `http://127.0.0.1:${port}`, proc, stop };
}
