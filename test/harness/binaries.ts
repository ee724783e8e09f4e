// Finds the control-plane binaries: $KUBEBUILDER_ASSETS (the setup-envtest
// layout, so people with release binaries need no Go) or the repository's
// bin/, which `make envtest-assets` fills from test/envtest.
import { accessSync, constants, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_BIN = join(REPO_ROOT, 'bin');

export interface ControlPlaneBinaries {
  /** Where they were found, for messages. */
  source: string;
  apiServer: string;
  etcd: string;
  /** Our multi-call etcd takes a reduced flag set; a real etcd needs cluster flags. */
  etcdIsEmbedded: boolean;
  controllerManager?: string;
  kubectl?: string;
  /** A real node's components (make dev-cluster, the end-to-end suite); only our build has them. */
  scheduler?: string;
}

const isExecutable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export function findBinaries(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries {
  const assets = env.KUBEBUILDER_ASSETS;
  const dir = assets ? resolve(assets) : REPO_BIN;
  const source = assets ? `KUBEBUILDER_ASSETS=${assets}` : dir;
  const at = (name: string) => {
    const p = join(dir, name);
    return isExecutable(p) ? p : undefined;
  };
  const apiServer = at('kube-apiserver');
  const etcd = at('etcd');
  if (!apiServer || !etcd) {
    const missing = [apiServer ? '' : 'kube-apiserver', etcd ? '' : 'etcd'].filter(Boolean).join(' and ');
    throw new Error(
      `control plane binaries not found: no executable ${missing} in ${source}; ` +
        'run `make envtest-assets` (or point KUBEBUILDER_ASSETS at a directory holding kube-apiserver and etcd)',
    );
  }
  // setup-envtest ships only kube-apiserver, etcd and kubectl: fall back to
  // the repository's build for the rest.
  const fromRepo = (name: string) => {
    const p = join(REPO_BIN, name);
    return isExecutable(p) ? p : undefined;
  };
  const controllerManager = at('kube-controller-manager') ?? fromRepo('kube-controller-manager');
  const kubectl = at('kubectl') ?? fromRepo('kubectl');
  const scheduler = at('kube-scheduler') ?? fromRepo('kube-scheduler');
  return {
    source,
    apiServer,
    etcd,
    etcdIsEmbedded: realpathSync(etcd).endsWith('/k8s-envtest'),
    ...(controllerManager ? { controllerManager } : {}),
    ...(kubectl ? { kubectl } : {}),
    ...(scheduler ? { scheduler } : {}),
  };
}
