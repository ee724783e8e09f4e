/**
 * Decides whether a server-side apply is needed, so a steady state makes zero
 * writes. A child needs an apply when
 * - it does not exist, or
 * - the hash of what we last applied (an annotation) differs from the hash of
 *   what we would apply now (covers fields we stopped setting), or
 * - some field we set has a different live value (someone else changed it).
 * Server-added fields (defaults, status, clusterIP, ...) are ignored.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { configHash } from '../render/config-hash.ts';

export const APPLIED_HASH_ANNOTATION = 'webui.dev/applied-hash';

/** Returns the object to apply: the desired object stamped with the hash of its content. */
export function stampApplied<T extends KubernetesObject>(desired: T): T {
  const hash = configHash(desired);
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...(desired.metadata?.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hash },
    },
  };
}

const QUANTITY = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Kubernetes canonicalizes quantities ("0.5" → "500m"); compare them by value. */
export function quantityValue(s: string): number | undefined {
  const m = QUANTITY.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (Number.isNaN(n)) return undefined;
  return n * (SUFFIX[m[2] ?? ''] ?? Number.NaN);
}

function scalarEqual(want: unknown, have: unknown): boolean {
  if (want === have) return true;
  if (typeof want === 'string' && typeof have === 'string') {
    const a = quantityValue(want);
    const b = quantityValue(have);
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
  }
  return false;
}

function isEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/**
 * The key fields of the lists that server-side apply merges by key (`x-kubernetes-list-type: map`),
 * by dotted path from the object's root, e.g. "spec.extraEnv" → ["name"]; "[]" marks a list item.
 * Other managers may add their own entries to such a list, so only ours are compared.
 */
export type ListMapKeys = ReadonlyMap<string, readonly string[]>;

const NO_LIST_MAPS: ListMapKeys = new Map();

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/**
 * True when every field in `want` has an equal value in `have`. Lists must match element-wise,
 * except the list maps named in `listMaps`, where each wanted entry must be found by its keys.
 */
export function isSubset(want: unknown, have: unknown, listMaps = NO_LIST_MAPS, path = ''): boolean {
  if (want === undefined) return true;
  if (have === undefined || have === null) return isEmpty(want);
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return false;
    const item = `${path}[]`;
    const keys = listMaps.get(path);
    if (keys) {
      return want.every((w) => {
        const wr = asRecord(w);
        const match = have.find((h) => keys.every((k) => asRecord(h)?.[k] === wr?.[k]));
        return match !== undefined && isSubset(w, match, listMaps, item);
      });
    }
    if (have.length !== want.length) return false;
    return want.every((w, i) => isSubset(w, have[i], listMaps, item));
  }
  const wantRecord = asRecord(want);
  if (wantRecord) {
    const h = asRecord(have);
    if (!h) return false;
    return Object.entries(wantRecord).every(([k, v]) =>
      isSubset(v, h[k], listMaps, path === '' ? k : `${path}.${k}`),
    );
  }
  return scalarEqual(want, have);
}

/** `stamped` is the output of stampApplied. */
export function needsApply(
  stamped: KubernetesObject,
  live: KubernetesObject | undefined,
  listMaps = NO_LIST_MAPS,
): boolean {
  if (!live) return true;
  const want = stamped.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  if (live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] !== want) return true;
  const { apiVersion: _a, kind: _k, ...rest } = stamped;
  return !isSubset(rest, live, listMaps);
}
