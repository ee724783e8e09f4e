import { afterEach, describe, expect, it } from 'vitest';
import { type HealthResult, type OperatorHttpServer, startOperatorHttpServer } from './http-server.ts';
import { createOperatorMetrics } from './metrics.ts';

describe('operator HTTP server', () => {
  let srv: OperatorHttpServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  async function start(live: HealthResult, ready: HealthResult) {
    const metrics = createOperatorMetrics();
    srv = await startOperatorHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      liveness: [{ name: 'watches', check: () => live }],
      readiness: [
        { name: 'informers-synced', check: () => ready },
        {
          name: 'throws',
          check: () => {
            if (!ready.ok) throw new Error('boom');
            return { ok: true };
          },
        },
      ],
    });
    return { metrics, base: `http://127.0.0.1:${srv.port}` };
  }

  it('serves the operator metrics and the default process metrics', async () => {
    const { metrics, base } = await start({ ok: true }, { ok: true });
    metrics.observeReconcile('success', 0.02);
    metrics.observeReconcile('error', 1.5);
    metrics.workQueueDepth.set(3);
    metrics.watchRestarts.inc({ resource: 'webuis', reason: 'gone' });
    metrics.leader.set(1);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('webui_operator_reconcile_total{result="success"} 1');
    expect(text).toContain('webui_operator_reconcile_total{result="error"} 1');
    expect(text).toContain('webui_operator_reconcile_total{result="requeue"} 0');
    expect(text).toContain('webui_operator_reconcile_duration_seconds_bucket{le="0.025",result="success"} 1');
    expect(text).toContain('webui_operator_reconcile_duration_seconds_count{result="error"} 1');
    expect(text).toContain('webui_operator_workqueue_depth 3');
    expect(text).toContain('webui_operator_watch_restarts_total{resource="webuis",reason="gone"} 1');
    expect(text).toContain('webui_operator_leader 1');
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('answers /healthz and /readyz with ok when every check passes', async () => {
    const { base } = await start({ ok: true }, { ok: true });
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
    }
    const verbose = await (await fetch(`${base}/readyz?verbose`)).text();
    expect(verbose).toContain('[+]informers-synced ok');
    expect(verbose).toContain('readyz check passed');
  });

  it('answers 503 naming the failing check', async () => {
    const { base } = await start(
      { ok: false, detail: 'no watch event for 600s' },
      { ok: false, detail: 'webuis' },
    );
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(503);
    expect(await live.text()).toContain('[-]watches failed: no watch event for 600s');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.text();
    expect(body).toContain('[-]informers-synced failed: webuis');
    expect(body).toContain('[-]throws failed: boom');
  });

  it('rejects unknown paths and methods', async () => {
    const { base } = await start({ ok: true }, { ok: true });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
