import { describe, expect, it } from 'vitest';
import type { WebUIStatus } from '../api/v1alpha1/webui.ts';
import { ReadYourWrites } from './read-your-writes.ts';

const applied = { hash: 'h1', result: { metadata: { name: 'x', resourceVersion: '8' } } };

describe('ReadYourWrites', () => {
  it('trusts an apply while the cache still shows the version from before it', () => {
    const w = new ReadYourWrites();
    w.rememberApply('Service', 'ns', 'x', '7', applied);
    expect(w.appliedSince('Service', 'ns', 'x', '7')).toBe(applied);
    expect(w.appliedSince('Deployment', 'ns', 'x', '7')).toBeUndefined();
  });

  it('drops the apply once the cache moved on, or when a watch event says so', () => {
    const w = new ReadYourWrites();
    w.rememberApply('Service', 'ns', 'x', '7', applied);
    expect(w.appliedSince('Service', 'ns', 'x', '9')).toBeUndefined();
    expect(w.appliedSince('Service', 'ns', 'x', '7')).toBeUndefined();
    w.rememberApply('Service', 'ns', 'x', '7', applied);
    w.forgetChild('Service', 'ns', 'x');
    expect(w.appliedSince('Service', 'ns', 'x', '7')).toBeUndefined();
  });

  it('keeps the last status write the same way', () => {
    const w = new ReadYourWrites();
    const status: WebUIStatus = { observedGeneration: 2 };
    w.rememberStatus('ns', 'chat', '10', status);
    expect(w.statusSince('ns', 'chat', '10')).toBe(status);
    w.forgetStatus('ns', 'chat');
    expect(w.statusSince('ns', 'chat', '10')).toBeUndefined();
  });
});
