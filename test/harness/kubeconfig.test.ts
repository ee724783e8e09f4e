import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderKubeconfig } from './kubeconfig.ts';

const caPem = '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n';
const server = 'https://127.0.0.1:6443';

describe('renderKubeconfig', () => {
  it('renders a client-certificate kubeconfig that client-node loads', () => {
    const yaml = renderKubeconfig({
      server,
      caPem,
      user: { clientCertPem: 'CERT-PEM', clientKeyPem: 'KEY-PEM' },
    });
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    expect(kc.getCurrentCluster()?.server).toBe(server);
    expect(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(caPem);
    const user = kc.getCurrentUser();
    expect(Buffer.from(user?.certData ?? '', 'base64').toString()).toBe('CERT-PEM');
    expect(Buffer.from(user?.keyData ?? '', 'base64').toString()).toBe('KEY-PEM');
    expect(user?.token).toBeUndefined();
  });

  it('renders a bearer-token kubeconfig without client certificate fields', () => {
    const yaml = renderKubeconfig({ server, caPem, user: { token: 'abc.def' }, name: 'sa' });
    const doc = parse(yaml) as { users: { user: Record<string, string> }[]; 'current-context': string };
    expect(doc['current-context']).toBe('sa');
    expect(doc.users[0]?.user).toEqual({ token: 'abc.def' });
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    expect(kc.getCurrentUser()?.token).toBe('abc.def');
    expect(kc.getCurrentCluster()?.server).toBe(server);
  });
});
