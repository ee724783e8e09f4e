// Runs bin/helm and bin/kubectl for the chart tests, with helm's cache and config in a temp dir so tests
// never touch the developer's ~/.config/helm.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../scripts/image-names.ts';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'webui-operator');
export const HELM = join(REPO_ROOT, 'bin', 'helm');
export const KUBECTL = join(REPO_ROOT, 'bin', 'kubectl');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface HelmRunner {
  helm(args: string[]): Promise<RunResult>;
  /** helm that must succeed; throws with its stderr otherwise. */
  helmOk(args: string[]): Promise<string>;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  cleanup(): void;
}

export function helmRunner(kubeconfigPath?: string): HelmRunner {
  const home = mkdtempSync(join(tmpdir(), 'chart-test-helm-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...(kubeconfigPath ? { KUBECONFIG: kubeconfigPath } : {}),
  };
  const helm = (args: string[]) => run(HELM, args, env);
  return {
    helm,
    async helmOk(args) {
      const r = await helm(args);
      if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    kubectl: (args, input) => run(KUBECTL, args, env, input),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

export function parseManifests(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object' && 'kind' in o);
}

export const ciValuesFiles = ['default', 'namespaced', 'with-webui', 'ha'].map((name) => ({
  name,
  path: join(CHART_DIR, 'ci', `${name}-values.yaml`),
}));

/** A free loopback TCP port (for the operator's HTTP server in tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
