import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readEnv } from '#contract';
import type { WebUISpecInput } from '../api/v1alpha1/webui.ts';
import { backendEnv } from './backend.ts';
import { renderFrontend } from './frontend.ts';
import { renderAll } from './index.ts';
import { type NetworkPolicy, renderBackendNetworkPolicy, renderIngress } from './network.ts';
import { DEFAULT_TRUSTED_PROXIES, trustedProxies } from './routing.ts';
import { base, container, ctx, envMap, webui } from './testing/fixtures.ts';

const frontendEnv = (spec: WebUISpecInput) => envMap(container(renderFrontend(webui(spec), ctx)).env ?? []);

describe('trusted proxies (issue 14, finding 2)', () => {
  it('the frontend, which the ingress reaches, trusts spec.network.trustedProxies', () => {
    const env = frontendEnv({ ...base, network: { trustedProxies: ['10.42.0.0/16', 'fd00::/8'] } });
    expect(readEnv({ FORWARDED_ALLOW_IPS: env.FORWARDED_ALLOW_IPS }).forwardedAllowIps).toEqual([
      '10.42.0.0/16',
      'fd00::/8',
    ]);
  });

  it('unset: the private and loopback ranges an in-cluster ingress controller has; [] trusts no proxy', () => {
    expect(frontendEnv(base).FORWARDED_ALLOW_IPS).toBe(DEFAULT_TRUSTED_PROXIES.join(','));
    expect(DEFAULT_TRUSTED_PROXIES).toEqual(
      expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', 'fd00::/8']),
    );
    expect(DEFAULT_TRUSTED_PROXIES).not.toContain('*');
    // [] leaves the server default: only the pod itself (127.0.0.1), no proxy.
    const none = frontendEnv({ ...base, network: { trustedProxies: [] } });
    expect(none).not.toHaveProperty('FORWARDED_ALLOW_IPS');
    expect(readEnv({}).forwardedAllowIps).toEqual(['127.0.0.1']);
  });

  it('the backend keeps trusting its only peer, the frontend forwarder, which passes on one resolved client', () => {
    const env = envMap(backendEnv(webui(base)));
    expect(env.FORWARDED_ALLOW_IPS).toBe('*');
  });

  it('refuses a list the server could not read, naming the field', () => {
    expect(() => trustedProxies(webui({ ...base, network: { trustedProxies: ['10.0.0.1/8'] } }))).toThrow(
      /spec\.network\.trustedProxies.*"10\.0\.0\.1\/8"/,
    );
  });
});

describe('backend NetworkPolicy', () => {
  it('admits only the frontend pods of this WebUI, on the backend port', () => {
    const p = renderBackendNetworkPolicy(webui(base));
    expect(p.metadata?.name).toBe('chat-backend');
    expect(p.metadata?.ownerReferences?.[0]?.uid).toBe('uid-1');
    expect(p.spec.policyTypes).toEqual(['Ingress']);
    const backend = renderAll(webui(base), ctx).apply.find(
      (o) => o.kind === 'Deployment' && o.metadata?.name === 'chat-backend',
    ) as V1Deployment;
    const frontend = renderFrontend(webui(base), ctx);
    expect(p.spec.podSelector.matchLabels).toEqual(backend.spec?.selector.matchLabels);
    expect(p.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: frontend.spec?.selector.matchLabels } }],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
    ]);
  });

  it('is rendered with every WebUI', () => {
    const kinds = renderAll(webui(base), ctx).apply.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(kinds).toContain('NetworkPolicy/chat-backend');
    const policy = renderAll(webui(base), ctx).apply.find((o) => o.kind === 'NetworkPolicy') as NetworkPolicy;
    expect(policy.apiVersion).toBe('networking.k8s.io/v1');
  });
});

describe('the Ingress sends the API to the backend (issue 16)', () => {
  const withIngress = (ingress: WebUISpecInput['ingress'], network?: WebUISpecInput['network']) =>
    webui({ ...base, ingress, ...(network !== undefined ? { network } : {}) });
  const routes = (w: ReturnType<typeof webui>) =>
    renderIngress(w)?.spec?.rules?.[0]?.http?.paths.map(
      (p) => `${p.pathType} ${p.path} -> ${p.backend.service?.name}:${p.backend.service?.port?.number}`,
    );

  it('by default: /api, /ollama, /health and /openapi.json to the backend Service, the rest to the frontend', () => {
    expect(routes(withIngress({ host: 'chat.example.com' }))).toEqual([
      'Prefix /api -> chat-backend:8080',
      'Prefix /ollama -> chat-backend:8080',
      'Prefix /health -> chat-backend:8080',
      'Exact /openapi.json -> chat-backend:8080',
      'Prefix / -> chat-frontend:80',
    ]);
  });

  it('under a sub-path, which the backend then serves under too', () => {
    const w = withIngress({ host: 'apps.example.com', path: '/team/chat/' });
    expect(routes(w)).toEqual([
      'Prefix /team/chat/api -> chat-backend:8080',
      'Prefix /team/chat/ollama -> chat-backend:8080',
      'Prefix /team/chat/health -> chat-backend:8080',
      'Exact /team/chat/openapi.json -> chat-backend:8080',
      'Prefix /team/chat -> chat-frontend:80',
    ]);
    const env = envMap(backendEnv(w));
    expect(env.WEBUI_BASE_PATH).toBe('/team/chat');
    expect(readEnv({ WEBUI_BASE_PATH: env.WEBUI_BASE_PATH }).basePath).toBe('/team/chat');
    // The path is not a setting an admin could change: nothing to list as managed.
    expect(env.WEBUI_MANAGED_SETTINGS?.split(',')).not.toContain('WEBUI_BASE_PATH');
  });

  it('the backend, a front door now, believes the proxies the frontend believes, and no one for []', () => {
    expect(envMap(backendEnv(withIngress({ host: 'c.example.com' }))).FORWARDED_ALLOW_IPS).toBe(
      DEFAULT_TRUSTED_PROXIES.join(','),
    );
    const narrowed = withIngress({ host: 'c.example.com' }, { trustedProxies: ['10.42.0.0/16'] });
    expect(envMap(backendEnv(narrowed)).FORWARDED_ALLOW_IPS).toBe('10.42.0.0/16');
    const none = withIngress({ host: 'c.example.com' }, { trustedProxies: [] });
    expect(envMap(backendEnv(none))).not.toHaveProperty('FORWARDED_ALLOW_IPS');
  });

  it('its NetworkPolicy admits the listed ingress controllers, or any source when none are listed', () => {
    const frontendPods = {
      podSelector: { matchLabels: renderFrontend(webui(base), ctx).spec?.selector.matchLabels },
    };
    const ports = [{ port: 'http', protocol: 'TCP' }];
    expect(renderBackendNetworkPolicy(withIngress({ host: 'c.example.com' })).spec.ingress).toEqual([
      { from: [frontendPods], ports },
      { ports },
    ]);
    const listed = withIngress(
      { host: 'c.example.com' },
      {
        ingressControllers: [
          { namespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
          { namespaceLabels: { team: 'edge' }, podLabels: { app: 'traefik' } },
        ],
      },
    );
    expect(renderBackendNetworkPolicy(listed).spec.ingress).toEqual([
      {
        from: [
          frontendPods,
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
          {
            namespaceSelector: { matchLabels: { team: 'edge' } },
            podSelector: { matchLabels: { app: 'traefik' } },
          },
        ],
        ports,
      },
    ]);
  });

  it('apiRoute: frontend keeps the single door: one Ingress path, the backend trusts its only peer and admits only it', () => {
    const w = withIngress({ host: 'chat.example.com', path: '/chat', apiRoute: 'frontend' });
    expect(routes(w)).toEqual(['Prefix /chat -> chat-frontend:80']);
    const env = envMap(backendEnv(w));
    expect(env.FORWARDED_ALLOW_IPS).toBe('*');
    expect(env).not.toHaveProperty('WEBUI_BASE_PATH');
    expect(renderBackendNetworkPolicy(w).spec.ingress).toHaveLength(1);
  });

  it('without an Ingress nothing changes: every request reaches the frontend', () => {
    const w = withIngress({ enabled: false, host: 'chat.example.com' });
    expect(renderIngress(w)).toBeUndefined();
    expect(envMap(backendEnv(w)).FORWARDED_ALLOW_IPS).toBe('*');
    expect(renderBackendNetworkPolicy(w).spec.ingress).toHaveLength(1);
  });
});
