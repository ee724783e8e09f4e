/** `make dev-cluster`'s settings from the environment (dev-cluster.ts runs on import, so they live here). */

/** DEV_CLUSTER_API_PORT: a fixed kube-apiserver port, so a kubeconfig stays valid across runs. */
export function apiPortFrom(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const port = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || port < 1 || port > 65535) {
    throw new Error(`DEV_CLUSTER_API_PORT: expected a port from 1 to 65535, got "${raw}"`);
  }
  return port;
}
