// 60 s of a misbehaving API server between the operator and a real kube-apiserver: watch ERROR
// events, watches closed at once or cut after a few seconds, 500s, 429s with Retry-After, and
// requests that never get an answer (chaos.ts, fault-proxy.ts). Meanwhile WebUIs are edited and
// created. The operator must not add to the trouble: its request rate stays under a ceiling (a
// correctness property, not a speed target: docs/operations.md, "Behaviour under faults").
// After healing nothing is lost: every WebUI converges, and the steady state makes zero writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyFault, maxInWindow, seededRandom, tokenBucketCeiling } from './chaos.ts';
import type { LoggedRequest } from './fault-proxy.ts';
import { type ProxiedStage, startProxiedStage } from './proxied-stage.ts';
import {
  condition,
  cpuSeconds,
  createWebUI,
  describeWrites,
  getWebUI,
  mergePatchWebUI,
  operatorWrites,
  setOllamaUrl,
  sleep,
  waitConverged,
  waitFor,
} from './support.ts';

const FAULT_SECONDS = 60;
/** The operator's defaults (--kube-api-qps, --kube-api-burst). */
const QPS = 20;
const BURST = 30;
/**
 * Lists and watches of one informer in the fault window, at most: one a second. A failing
 * watch waits for its backoff (0.8 s at least, then growing); one that ends cleanly is
 * reopened at once only when it ran for a second or delivered an event, and the proxy cuts
 * none of its watches sooner than after a second.
 */
const INFORMER_REQUESTS_PER_SECOND = 1;
/** CPU of the operator during the faults, at most, in cores (a tight loop holds one). */
const CPU_CORES = 0.5;

/** "GET /apis/apps/v1/namespaces/default/deployments?labelSelector=…" → the informer it serves. */
function informerOf(r: LoggedRequest): string | undefined {
  if (r.method !== 'GET') return undefined;
  const url = new URL(r.path, 'https://proxy');
  // A namespaced collection: /api/v1/namespaces/<ns>/<plural> or /apis/<group>/<version>/namespaces/<ns>/<plural>.
  const segments = url.pathname.split('/').filter(Boolean);
  const length = segments[0] === 'api' ? 5 : 6;
  if (segments.length !== length || segments[length - 3] !== 'namespaces') return undefined;
  const selector = url.searchParams.get('labelSelector') ?? url.searchParams.get('fieldSelector') ?? '';
  return `${url.pathname} ${selector}`;
}

describe('60 s of API faults', () => {
  let stage: ProxiedStage | undefined;
  beforeAll(async () => {
    stage = await startProxiedStage({ LOG_LEVEL: 'info' });
  });
  afterAll(() => stage?.stop());

  it('keeps its request rate under the ceiling, converges after healing and returns to zero writes', async () => {
    const { cp, c, ollama, proxy, op: operator } = stage as ProxiedStage;
    const names = Array.from({ length: 6 }, (_, i) => `chaos-${i}`);
    for (const n of names) await createWebUI(c, n, { ollama: { baseUrl: ollama.url } });
    await waitConverged(c, names);

    // The faults, with changes the operator can only see through them.
    const cpuBefore = cpuSeconds(operator.proc.pid);
    const from = Date.now();
    proxy.startChaos(everyFault(seededRandom(13)));
    await sleep(10_000);
    await setOllamaUrl(c, 'chaos-0', `${ollama.url}/during-faults`);
    await mergePatchWebUI(c, 'chaos-1', { spec: { auth: { enableSignup: true } } });
    await sleep(20_000);
    await createWebUI(c, 'chaos-late', { ollama: { baseUrl: ollama.url } });
    await sleep(FAULT_SECONDS * 1000 - 30_000);
    const to = Date.now();
    expect(operator.proc.exitInfo, 'the operator exited during the faults').toBeUndefined();
    const cpu = cpuSeconds(operator.proc.pid) - cpuBefore;
    proxy.heal();

    const during = proxy.requests.filter((r) => r.at >= from && r.at < to);
    const times = during.map((r) => r.at);
    const perInformer = new Map<string, number>();
    for (const r of during) {
      const informer = informerOf(r);
      if (informer) perInformer.set(informer, (perInformer.get(informer) ?? 0) + 1);
    }
    const seconds = (to - from) / 1000;
    const busiest = [...perInformer].sort((a, b) => b[1] - a[1]);
    const measured = {
      seconds,
      requests: during.length,
      perSecond: Number((during.length / seconds).toFixed(1)),
      busiest1s: maxInWindow(times, 1000),
      busiest10s: maxInWindow(times, 10_000),
      faults: Object.fromEntries([...Map.groupBy(during, (r) => r.fault)].map(([k, v]) => [k, v.length])),
      busiestInformer: busiest[0],
      cpuCores: Number((cpu / seconds).toFixed(3)),
    };
    console.log(`operator under API faults: ${JSON.stringify(measured)}`);

    // Faults were injected, and the operator kept trying.
    expect(during.filter((r) => r.fault !== 'forward').length).toBeGreaterThan(20);
    // The ceilings. The token bucket's: burst + qps × t in any window of t seconds.
    expect(measured.busiest1s).toBeLessThanOrEqual(tokenBucketCeiling(QPS, BURST, 1));
    expect(measured.busiest10s).toBeLessThanOrEqual(tokenBucketCeiling(QPS, BURST, 10));
    expect(during.length).toBeLessThanOrEqual(tokenBucketCeiling(QPS, BURST, seconds));
    // The backoff's, which holds below the bucket: no informer loops.
    for (const [informer, n] of perInformer) {
      expect(n, informer).toBeLessThanOrEqual(INFORMER_REQUESTS_PER_SECOND * seconds);
    }
    expect(measured.cpuCores).toBeLessThanOrEqual(CPU_CORES);

    // Nothing is lost.
    const all = [...names, 'chaos-late'];
    const healed = Date.now();
    await waitConverged(c, all, 300_000);
    await waitFor(
      'every WebUI to report its last reconcile as successful (Degraded=False)',
      async () => {
        for (const n of all)
          if (condition(await getWebUI(c, n), 'Degraded')?.status !== 'False') return false;
        return true;
      },
      300_000,
      1000,
    );
    console.log(`converged ${((Date.now() - healed) / 1000).toFixed(1)} s after healing`);
    expect((await getWebUI(c, 'chaos-0')).spec.ollama.baseUrl).toBe(`${ollama.url}/during-faults`);
    expect(operator.proc.exitInfo).toBeUndefined();

    // Steady state: zero writes.
    await sleep(2_000);
    const since = Date.now();
    await sleep(15_000);
    await sleep(1_000); // audit events land just after the response
    const writes = operatorWrites(await cp.readAuditEvents()).filter(
      (e) => Date.parse(e.requestReceivedTimestamp) >= since,
    );
    expect(describeWrites(writes)).toBe('');
  }, 900_000);
});
