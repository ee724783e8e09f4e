// Renders kubeconfig files for the test control plane: one cluster entry with
// the CA inlined, and either a client certificate or a bearer token user.
import { stringify } from 'yaml';

export type KubeconfigUser = { clientCertPem: string; clientKeyPem: string } | { token: string };

export interface KubeconfigParams {
  server: string;
  caPem: string;
  user: KubeconfigUser;
  /** Name used for the cluster, user and context entries. */
  name?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export function renderKubeconfig({ server, caPem, user, name = 'envtest' }: KubeconfigParams): string {
  const userEntry =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.clientCertPem), 'client-key-data': b64(user.clientKeyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name, user: userEntry }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  });
}
