import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../test/harness/control-plane.ts';
import { convergenceFromAudit, histogramQuantile } from './operator-scale.ts';

const text = `# HELP h x
webui_operator_reconcile_duration_seconds_bucket{le="0.01",result="success"} 50
webui_operator_reconcile_duration_seconds_bucket{le="0.1",result="success"} 90
webui_operator_reconcile_duration_seconds_bucket{le="1",result="success"} 100
webui_operator_reconcile_duration_seconds_bucket{le="+Inf",result="success"} 100
webui_operator_reconcile_duration_seconds_bucket{le="0.01",result="error"} 0
webui_operator_reconcile_duration_seconds_bucket{le="0.1",result="error"} 0
webui_operator_reconcile_duration_seconds_bucket{le="1",result="error"} 0
webui_operator_reconcile_duration_seconds_bucket{le="+Inf",result="error"} 100
`;

describe('histogramQuantile', () => {
  it('interpolates within the bucket holding the rank, summed over labels', () => {
    // 200 observations: rank 100 (p50) is the last of the le=1 bucket (cumulative 100).
    expect(histogramQuantile(text, 'webui_operator_reconcile_duration_seconds', 0.5)).toBeCloseTo(1, 6);
    // rank 50 (p25): 50 of the first bucket's 50 -> its upper bound.
    expect(histogramQuantile(text, 'webui_operator_reconcile_duration_seconds', 0.25)).toBeCloseTo(0.01, 6);
    // rank 70 (p35): 20 of the 40 in (0.01, 0.1] -> halfway.
    expect(histogramQuantile(text, 'webui_operator_reconcile_duration_seconds', 0.35)).toBeCloseTo(0.055, 6);
    // Beyond the last finite bucket: its bound (what PromQL reports too).
    expect(histogramQuantile(text, 'webui_operator_reconcile_duration_seconds', 0.99)).toBe(1);
  });

  it('is undefined without observations', () => {
    expect(histogramQuantile('', 'webui_operator_reconcile_duration_seconds', 0.5)).toBeUndefined();
  });
});

describe('convergenceFromAudit', () => {
  const ev = (
    at: string,
    resource: string,
    name: string,
    code: number,
    subresource?: string,
  ): AuditEvent => ({
    auditID: at + name,
    stage: 'ResponseComplete',
    verb: 'patch',
    requestURI: '/',
    user: { username: 'admin' },
    objectRef: { resource, namespace: 'default', name, ...(subresource ? { subresource } : {}) },
    responseStatus: { code },
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  });

  it('counts distinct statuses and created children since the start, and the last such write', () => {
    const since = Date.parse('2026-11-24T16:00:00Z');
    const r = convergenceFromAudit(
      [
        ev('2026-11-24T15:59:59Z', 'deployments', 'old-backend', 201), // before the start
        ev('2026-11-24T16:00:01Z', 'deployments', 'a-backend', 201),
        ev('2026-11-24T16:00:02Z', 'deployments', 'a-backend', 200), // an update, not a creation
        ev('2026-11-24T16:00:02Z', 'secrets', 'a-secret-key', 201),
        ev('2026-11-24T16:00:03Z', 'webuis', 'a', 200, 'status'),
        ev('2026-11-24T16:00:04Z', 'webuis', 'a', 200, 'status'),
        ev('2026-11-24T16:00:05Z', 'webuis', 'b', 409, 'status'), // failed: not written
        ev('2026-11-24T16:00:09Z', 'events', 'a.123', 201), // not a child
      ],
      since,
    );
    expect(r).toEqual({
      statusWritten: 1,
      childrenCreated: 2,
      lastWriteAt: Date.parse('2026-11-24T16:00:04Z'),
    });
  });
});
