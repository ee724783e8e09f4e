import { describe, expect, it } from 'vitest';
import { histogramQuantile } from './operator-scale.ts';

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
