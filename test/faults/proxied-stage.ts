// The stage of the fault-proxy tests: a control plane with the audit log and the CRD, the fake
// Ollama, and the operator process talking to the API server only through a fault proxy (the
// tests' own clients go straight to the API server).
import { readFileSync } from 'node:fs';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { type Clients, installCrd, type OperatorProcess, startOperator, testClients } from './support.ts';

export interface ProxiedStage {
  cp: ControlPlane;
  ollama: FakeOllama;
  proxy: FaultProxy;
  c: Clients;
  op: OperatorProcess;
  /** Stops everything; first prints the end of the operator's log if it exited (it never should). */
  stop(): Promise<void>;
}

export async function startProxiedStage(operatorEnv: NodeJS.ProcessEnv = {}): Promise<ProxiedStage> {
  const cp = await startControlPlane({ auditLog: true });
  await installCrd(cp);
  const ollama = await startFakeOllama({ host: '127.0.0.1', record: false });
  const proxy = await startFaultProxy(cp);
  const op = await startOperator(cp, {
    name: 'op',
    env: { KUBECONFIG: proxy.kubeconfigPath, ...operatorEnv },
  });
  return {
    cp,
    ollama,
    proxy,
    c: testClients(cp),
    op,
    async stop() {
      if (op.proc.exitInfo) {
        // The log goes with the control plane's dir: show why here.
        const lines = readFileSync(op.logPath, 'utf8').trimEnd().split('\n');
        console.log(
          `the operator exited (${JSON.stringify(op.proc.exitInfo)}):\n${lines.slice(-30).join('\n')}`,
        );
      }
      await op.kill9();
      await proxy.close();
      await ollama.close();
      await cp.stop();
    },
  };
}
