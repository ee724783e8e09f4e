import { describe, expect, it } from 'vitest';
import { isSubset, needsApply, quantityValue, stampApplied } from './drift.ts';

const desired = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's', namespace: 'n', labels: { a: '1' } },
  spec: { ports: [{ port: 80, protocol: 'TCP' }], selector: { x: 'y' } },
};

function live(overrides: Record<string, unknown> = {}) {
  const s = stampApplied(desired);
  return {
    ...s,
    metadata: { ...s.metadata, resourceVersion: '5', uid: 'u' },
    spec: { ...s.spec, clusterIP: '10.0.0.1', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] },
    status: {},
    ...overrides,
  };
}

describe('needsApply', () => {
  it('is false when the live object holds everything we set plus server defaults', () => {
    expect(needsApply(stampApplied(desired), live())).toBe(false);
  });

  it('is true when the object is missing', () => {
    expect(needsApply(stampApplied(desired), undefined)).toBe(true);
  });

  it('is true when someone changed a field we manage', () => {
    const l = live();
    l.spec = { ...l.spec, selector: { x: 'z' } };
    expect(needsApply(stampApplied(desired), l)).toBe(true);
  });

  it('is true when we stop setting a field (hash differs), which SSA then removes', () => {
    const { labels: _drop, ...meta } = desired.metadata;
    expect(needsApply(stampApplied({ ...desired, metadata: meta }), live())).toBe(true);
  });
});

describe('isSubset', () => {
  it('compares quantities by value, as the API server canonicalizes them', () => {
    expect(isSubset({ cpu: '0.5', memory: '1Gi' }, { cpu: '500m', memory: '1024Mi' })).toBe(true);
    expect(isSubset({ cpu: '0.5' }, { cpu: '400m' })).toBe(false);
    expect(quantityValue('abc')).toBeUndefined();
  });

  it('treats an empty desired object as present when the server omitted it', () => {
    expect(isSubset({ emptyDir: {} }, { emptyDir: {} })).toBe(true);
    expect(isSubset({ a: {} }, {})).toBe(true);
    expect(isSubset({ a: { b: 1 } }, {})).toBe(false);
  });

  it('requires arrays of equal length', () => {
    expect(isSubset([{ a: 1 }], [{ a: 1 }, { a: 2 }])).toBe(false);
  });

  it('finds the entries of a list map by key, ignoring order and entries other managers added', () => {
    const keys = new Map([['spec.env', ['name']]]);
    const want = { spec: { env: [{ name: 'A', value: '1' }] } };
    const have = {
      spec: {
        env: [
          { name: 'B', value: 'theirs' },
          { name: 'A', value: '1' },
        ],
      },
    };
    expect(isSubset(want, have, keys)).toBe(true);
    expect(isSubset(want, have)).toBe(false);
    expect(isSubset(want, { spec: { env: [{ name: 'A', value: '2' }] } }, keys)).toBe(false);
    expect(isSubset(want, { spec: { env: [{ name: 'B', value: '1' }] } }, keys)).toBe(false);
    // Keys are matched per path: a list map nested in list items uses "[]".
    const nested = new Map([['items[].ports', ['port']]]);
    expect(
      isSubset(
        { items: [{ ports: [{ port: 1 }] }] },
        { items: [{ ports: [{ port: 2 }, { port: 1 }] }] },
        nested,
      ),
    ).toBe(true);
  });
});
