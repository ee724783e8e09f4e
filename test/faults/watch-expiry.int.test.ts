import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.ts';
import {
  type Clients,
  createWebUI,
  getWebUI,
  installCrd,
  type OperatorProcess,
  setOllamaUrl,
  startOperator,
  testClients,
  waitConverged,
  waitFor,
} from './support.ts';

async function etcd(cp: ControlPlane, path: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${cp.etcdServer}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Writes a key outside the Kubernetes prefix (to move the revision on), then compacts up to it. */
async function compactEtcd(cp: ControlPlane): Promise<number> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const put = await etcd(cp, '/v3/kv/put', { key: b64('/fault-test/bump'), value: b64(String(Date.now())) });
  const revision = Number((put.header as { revision?: string } | undefined)?.revision);
  if (!(revision > 0)) throw new Error(`etcd put returned no revision: ${JSON.stringify(put)}`);
  await etcd(cp, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

function watchRestarts(metrics: string, reason: string): number {
  let sum = 0;
  for (const m of metrics.matchAll(/^webui_operator_watch_restarts_total\{([^}]*)\} (\d+)$/gm)) {
    if (m[1]?.includes(`reason="${reason}"`)) sum += Number(m[2]);
  }
  return sum;
}

describe('watch expiry (410 Gone)', () => {
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
    if (op) {
      try {
        process.kill(-op.proc.pid, 'SIGCONT');
      } catch {
        // gone
      }
      await op.kill9();
    }
    await ollama?.close();
    await cp?.stop();
  });

  it('relists after 410 and converges a change it could only see by relisting', async () => {
    op = await startOperator(cp, { name: 'op' });
    await createWebUI(c, 'expiry', { ollama: { baseUrl: ollama.url } });
    await waitConverged(c, ['expiry']);
    const goneBefore = watchRestarts(await op.metricsText(), 'gone');

    // Freeze the operator, change the WebUI behind its back, make its resourceVersions unusable.
    process.kill(-op.proc.pid, 'SIGSTOP');
    await setOllamaUrl(c, 'expiry', `${ollama.url}/while-frozen`);
    await cp.stopApiServer();
    const compactedAt = await compactEtcd(cp);
    expect(compactedAt).toBeGreaterThan(0);
    await cp.startApiServer();
    process.kill(-op.proc.pid, 'SIGCONT');

    await waitFor('the operator to relist after 410', async () => {
      return watchRestarts(await (op as OperatorProcess).metricsText(), 'gone') > goneBefore;
    });
    await waitConverged(c, ['expiry']);
    const w = await getWebUI(c, 'expiry');
    expect(w.spec.ollama.baseUrl).toBe(`${ollama.url}/while-frozen`);
    expect(w.status?.observedGeneration).toBe(2);
  });
});
