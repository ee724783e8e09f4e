import { CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conflictRule } from './fault-proxy.ts';
import { type ProxiedStage, startProxiedStage } from './proxied-stage.ts';
import {
  condition,
  createWebUI,
  getWebUI,
  mergePatchWebUI,
  NS,
  operatorWrites,
  setOllamaUrl,
  sleep,
  waitConverged,
} from './support.ts';

describe('rapid edits and conflicts', () => {
  let stage: ProxiedStage | undefined;
  beforeAll(async () => {
    stage = await startProxiedStage();
  });
  afterAll(() => stage?.stop());

  it('coalesces 50 rapid edits and ends in the last one', async () => {
    const { c, cp, ollama, op } = stage as ProxiedStage;
    await createWebUI(c, 'edited', { ollama: { baseUrl: ollama.url } });
    await waitConverged(c, ['edited']);
    const reconcilesBefore = await op.reconcileCount();
    const since = Date.now();
    for (let i = 1; i <= 50; i++) await setOllamaUrl(c, 'edited', `${ollama.url}/edit-${i}`);
    await waitConverged(c, ['edited']);
    const w = await getWebUI(c, 'edited');
    expect(w.spec.ollama.baseUrl).toBe(`${ollama.url}/edit-50`);
    expect(w.status?.observedGeneration).toBe(51);

    await sleep(1_000); // audit events land just after the response
    const deploymentWrites = operatorWrites(await cp.readAuditEvents()).filter(
      (e) =>
        Date.parse(e.requestReceivedTimestamp) >= since &&
        e.objectRef?.resource === 'deployments' &&
        e.objectRef.name === 'edited-backend',
    );
    // Edits that arrive while a reconcile runs collapse into one more run.
    expect(deploymentWrites.length).toBeGreaterThan(0);
    expect(deploymentWrites.length).toBeLessThan(50);
    expect((await op.reconcileCount()) - reconcilesBefore).toBeLessThan(50);
  });

  it('retries 409 conflicts without reporting a failure', async () => {
    const { c, cp, ollama, proxy } = stage as ProxiedStage;
    const isWrite = (m: string) => m === 'PATCH' || m === 'PUT' || m === 'POST';
    const name = 'conflicted';
    const under = (path: string) => path.includes(`/namespaces/${NS}/`) && path.includes(name);
    // The first two writes of each child kind and of the status answer 409.
    for (const part of ['/secrets/', '/services/', '/deployments/', '/persistentvolumeclaims/', '/status']) {
      proxy.addRule(
        conflictRule(({ method, path }) => isWrite(method) && under(path) && path.includes(part), 2),
      );
    }
    // Meanwhile something else keeps changing the WebUI's metadata.
    let bumping = true;
    const bumper = (async () => {
      for (let i = 0; bumping; i++) {
        try {
          await mergePatchWebUI(c, name, { metadata: { annotations: { 'fault-test/bump': String(i) } } });
        } catch {
          // not created yet
        }
        await sleep(50);
      }
    })();
    await createWebUI(c, name, { ollama: { baseUrl: ollama.url } });
    try {
      await waitConverged(c, [name]);
    } finally {
      bumping = false;
      await bumper;
    }
    expect(proxy.injected.filter((f) => f.status === 409).length).toBeGreaterThanOrEqual(5);

    const w = await getWebUI(c, name);
    expect(condition(w, 'Degraded')?.status).toBe('False');
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const events: CoreV1Event[] = (
      await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })
    ).items;
    // A surfaced conflict would show as an ApplyFailed or Degraded Warning event. (The fake
    // Ollama listens on loopback, which the operator rightly warns about: not a failure here.)
    const warnings = events.filter((e) => e.type === 'Warning' && e.reason !== 'OllamaUnreachable');
    expect(warnings.map((e) => `${e.reason}: ${e.message}`)).toEqual([]);
  });
});
