import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import {
  type Clients,
  createWebUI,
  getWebUI,
  installCrd,
  mergePatchWebUI,
  type OperatorProcess,
  setOllamaUrl,
  sleep,
  startOperator,
  testClients,
  waitConverged,
  waitFor,
} from './support.ts';

describe('API server restart mid-run', () => {
  let cp: ControlPlane;
  let ollama: FakeOllama;
  let c: Clients;
  let op: OperatorProcess | undefined;

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrd(cp);
    ollama = await startFakeOllama({ host: '127.0.0.1', record: false });
    c = testClients(cp);
  });
  afterAll(async () => {
    await op?.kill9();
    await ollama?.close();
    await cp?.stop();
  });

  it('converges every change made before, right after and well after the outage', async () => {
    op = await startOperator(cp, { name: 'op' });
    const steady = ['steady-0', 'steady-1'];
    for (const n of steady) await createWebUI(c, n, { ollama: { baseUrl: ollama.url } });
    await waitConverged(c, steady);

    // A batch the operator is still working on when the API server goes away.
    const batch = Array.from({ length: 8 }, (_, i) => `batch-${i}`);
    for (const n of batch) await createWebUI(c, n, { ollama: { baseUrl: ollama.url } });
    await cp.stopApiServer();
    await sleep(3_000); // the operator's calls and watches fail meanwhile
    await cp.startApiServer();

    // Right after the restart: the operator is still backing off its reconnects.
    await setOllamaUrl(c, 'steady-0', `${ollama.url}/after-restart`);
    await mergePatchWebUI(c, 'batch-0', { spec: { auth: { enableSignup: true } } });
    await createWebUI(c, 'created-after-restart', { ollama: { baseUrl: ollama.url } });
    const all = [...steady, ...batch, 'created-after-restart'];
    await waitConverged(c, all);
    expect(await op.reconcileCount()).toBeGreaterThan(0);
    expect(op.proc.exitInfo).toBeUndefined();

    // Later changes still flow (the watches are healthy again, not just relisted once).
    await setOllamaUrl(c, 'steady-1', `${ollama.url}/later`);
    await waitFor('the later change to converge', async () => {
      const w = await getWebUI(c, 'steady-1');
      return w.status?.observedGeneration === w.metadata.generation && w.metadata.generation === 2;
    });
    await waitConverged(c, all);
    const metrics = await op.metricsText();
    expect(metrics).toMatch(/^webui_operator_watch_restarts_total\{[^}]*\} [1-9]/m);
  });
});
