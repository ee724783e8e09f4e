// The real operator process, configured as the chart's pod would be: the chart's settings ConfigMap as
// env, a TokenRequest token of the chart's ServiceAccount, and the downward-API variables the Deployment
// sets. There is no kubelet in the test control plane, so the chart's Deployment never runs a pod; this
// is how the chart tests run the operator with exactly the chart's settings and RBAC.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '../harness/control-plane.ts';
import { sleep } from '../harness/probe.ts';
import { type ManagedProcess, startProcess } from '../harness/process-group.ts';
import { CHART_DIR, freePort } from './helm.ts';

const OPERATOR_BIN = join(CHART_DIR, '../../operator/bin/webui-operator.ts');

/** The names the chart gives the operator's ServiceAccount and settings ConfigMap for a release. */
export function chartNames(release: string) {
  return { serviceAccount: `${release}-webui-operator`, configMap: `${release}-webui-operator-config` };
}

export interface ChartOperator {
  proc: ManagedProcess;
  logPath: string;
  httpPort: number;
  /** The ServiceAccount token it runs with (for checking what that token may do). */
  token: string;
  log(): string;
}

export async function runChartOperator(
  cp: ControlPlane,
  work: string,
  name: string,
  namespace: string,
  chart: { serviceAccount: string; configMap: string },
): Promise<ChartOperator> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name: chart.serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tokenRequest.status?.token ?? '';
  const kubeconfig = join(work, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, cp.kubeconfigYamlForToken(token), { mode: 0o600 });
  const config = await core.readNamespacedConfigMap({ name: chart.configMap, namespace });
  const httpPort = await freePort();
  const logPath = join(work, `${name}.log`);
  const proc = startProcess(`operator-${name}`, process.execPath, [OPERATOR_BIN], {
    logPath,
    env: {
      PATH: process.env.PATH,
      ...config.data,
      // What the Deployment adds: the downward API, and the port (a free one here, not the chart's 8081).
      POD_NAME: `${name}-pod`,
      POD_NAMESPACE: namespace,
      HTTP_PORT: String(httpPort),
      KUBECONFIG: kubeconfig,
    },
  });
  return { proc, logPath, httpPort, token, log: () => readFileSync(logPath, 'utf8') };
}

/** Polls `fn` until it returns a value; fails early, with the operator's log, if the operator exits. */
export async function waitFor<T>(
  what: string,
  op: ChartOperator,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (op.proc.exitInfo)
      throw new Error(
        `operator exited (${JSON.stringify(op.proc.exitInfo)}) while waiting for ${what}:\n${op.log().slice(-3000)}`,
      );
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; operator log:\n${op.log().slice(-3000)}`);
    await sleep(250);
  }
}
