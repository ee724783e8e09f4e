import { describe, expect, it } from 'vitest';
import { nginxConfig, routesFromIngress } from './nginx.ts';

describe('nginx as an Ingress stand-in', () => {
  const routes = routesFromIngress(
    {
      spec: {
        rules: [
          {
            http: {
              paths: [
                { path: '/chat/api', pathType: 'Prefix', backend: { service: { name: 'chat-backend' } } },
                {
                  path: '/chat/openapi.json',
                  pathType: 'Exact',
                  backend: { service: { name: 'chat-backend' } },
                },
                { path: '/chat', pathType: 'Prefix', backend: { service: { name: 'chat-frontend' } } },
              ],
            },
          },
        ],
      },
    },
    { 'chat-backend': 'http://127.0.0.1:8080', 'chat-frontend': 'http://127.0.0.1:8081' },
  );

  it('maps each path to the address of its Service, and refuses a Service it was not given', () => {
    expect(routes.map((r) => `${r.pathType} ${r.path} ${r.upstream}`)).toEqual([
      'Prefix /chat/api http://127.0.0.1:8080',
      'Exact /chat/openapi.json http://127.0.0.1:8080',
      'Prefix /chat http://127.0.0.1:8081',
    ]);
    expect(() =>
      routesFromIngress(
        {
          spec: {
            rules: [{ http: { paths: [{ pathType: 'Prefix', backend: { service: { name: 'x' } } }] } }],
          },
        },
        {},
      ),
    ).toThrow(/no address for the Service x/);
  });

  it('matches as an Ingress does: Exact locations, whole-segment prefixes, longest first', () => {
    const conf = nginxConfig({ dir: '/tmp/n', listenPort: 9000, routes });
    const locations = conf.split('\n').filter((l) => l.trim().startsWith('location'));
    expect(locations.map((l) => l.trim())).toEqual([
      'location = /chat/openapi.json { proxy_pass http://u0; }',
      'location ~ ^/chat/api(/|$) { proxy_pass http://u0; }',
      'location ~ ^/chat(/|$) { proxy_pass http://u1; }',
    ]);
    expect(conf).toContain('upstream u0 { server 127.0.0.1:8080; keepalive 64; }');
    expect(conf).toContain('listen 127.0.0.1:9000;');
    expect(conf).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    // Nothing outside the test's directory: pid, logs and temp paths.
    for (const line of conf.split('\n').filter((l) => /(pid|_log|_path) /.test(l)))
      expect(line).toContain('/tmp/n/');
  });

  it('escapes the regex characters a path may hold', () => {
    const conf = nginxConfig({
      dir: '/tmp/n',
      listenPort: 9000,
      routes: [{ path: '/a.b', pathType: 'Prefix', upstream: 'http://127.0.0.1:1' }],
    });
    expect(conf).toContain('location ~ ^/a\\.b(/|$)');
  });
});
