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

/** True when every field in `want` has an equal value in `have` (arrays must match element-wise). */
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === undefined) return true;
  if (have === undefined || have === null) return isEmpty(want);
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => isSubset(w, have[i]));
  }
  if (typeof want === 'object' && want !== null) {
    if (typeof have !== 'object' || Array.isArray(have)) return false;
    const h = have as Record<string, unknown>;
    return Object.entries(want as Record<string, unknown>).every(([k, v]) => isSubset(v, h[k]));
  }
  return scalarEqual(want, have);
}

/** `stamped` is the output of stampApplied. */
export function needsApply(stamped: KubernetesObject, live: KubernetesObject | undefined): boolean {
  if (!live) return true;
  const want = stamped.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  if (live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] !== want) return true;
  const { apiVersion: _a, kind: _k, ...rest } = stamped;
  return !isSubset(rest, live);
}
