import { describe, expect, it } from 'vitest';
import { apiPortFrom } from './dev-cluster-env.ts';

describe('DEV_CLUSTER_API_PORT', () => {
  it('is unset or empty: a free port; a number: that port', () => {
    expect(apiPortFrom(undefined)).toBeUndefined();
    expect(apiPortFrom(' ')).toBeUndefined();
    expect(apiPortFrom('6443')).toBe(6443);
  });

  it('anything else stops with one line naming the variable', () => {
    for (const bad of ['0', '65536', 'https', '64 43', '-1', '1e3']) {
      expect(() => apiPortFrom(bad), bad).toThrow(
        /^DEV_CLUSTER_API_PORT: expected a port from 1 to 65535, got /,
      );
    }
  });
});
