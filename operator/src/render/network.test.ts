import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readEnv } from '#contract';
import type { WebUISpecInput } from '../api/v1alpha1/webui.ts';
import { backendEnv } from './backend.ts';
import { renderFrontend } from './frontend.ts';
import { renderAll } from './index.ts';
import {
  DEFAULT_TRUSTED_PROXIES,
  type NetworkPolicy,
  renderBackendNetworkPolicy,
  trustedProxies,
} from './network.ts';
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
