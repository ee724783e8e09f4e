/**
 * The WebUI seed: a ConfigMap whose data holds one WebUI manifest, which the operator applies.
 *
 * Why a ConfigMap and not a WebUI in the Helm chart: Helm, and a one-pass `kubectl apply` of the
 * chart's output (what Argo CD and Flux do), map every object to its API before creating any, so a
 * WebUI in the same stream as its CRD fails with "no matches for kind WebUI". A ConfigMap needs no
 * CRD; the operator applies the WebUI once both it and the CRD exist. The WebUI gets an owner
 * reference to the seed, so deleting the seed (helm uninstall, webui.create=false) garbage-collects
 * it, as Helm deleting it did.
 *
 * Pure: parse and check the seed, build the WebUI to apply, decide whether an apply is needed and
 * whether an existing WebUI may be taken over. The watch and the writes are in seed-applier.ts.
 */
import type { KubernetesObject, V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import { type OpenApi, toOpenApi } from '../api/schema.ts';
import { API_VERSION, KIND, webuiSpecSchema } from '../api/v1alpha1/webui.ts';
import { type ListMapKeys, needsApply, stampApplied } from '../kube/drift.ts';
import { LABEL_INSTANCE, LABEL_PART_OF } from '../render/meta.ts';

/** The ConfigMap key holding the manifest (JSON: no YAML parser in the operator). */
export const SEED_DATA_KEY = 'webui.json';

/** Server-side apply field manager of the seed's writes, apart from the reconciler's `webui-operator`. */
export const SEED_FIELD_MANAGER = 'webui-operator-seed';

export type SeedResult = { ok: true; webui: KubernetesObject } | { ok: false; error: string };

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const METADATA = new Set(['name', 'namespace', 'labels', 'annotations']);

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** A string map at `field`, or an error naming the offending entry. */
function stringMap(v: unknown, field: string): { map?: Record<string, string>; error?: string } {
  if (v === undefined) return {};
  const r = record(v);
  if (!r) return { error: `${field} must be an object of strings` };
  for (const [k, x] of Object.entries(r)) {
    if (typeof x !== 'string') return { error: `${field}.${k} must be a string, got ${JSON.stringify(x)}` };
  }
  return { map: r as Record<string, string> };
}

/** The owner reference that garbage-collects the WebUI with its seed. */
export function seedOwnerReference(seed: V1ConfigMap): V1OwnerReference {
  const { name, uid } = seed.metadata ?? {};
  if (!name || !uid) throw new Error('the seed ConfigMap has no name or uid');
  // No blockOwnerDeletion: it would need update on the seed's finalizers where
  // OwnerReferencesPermissionEnforcement is on, and nothing waits for foreground deletion.
  return { apiVersion: 'v1', kind: 'ConfigMap', name, uid, controller: true };
}

/**
 * The WebUI a seed asks for, stamped with the hash of its content (kube/drift.ts), or one line
 * naming the field that is wrong. Only name, namespace, labels and annotations may be set in
 * metadata: the rest is the API server's or the operator's.
 */
export function seedWebUI(seed: V1ConfigMap): SeedResult {
  const namespace = seed.metadata?.namespace ?? '';
  const text = seed.data?.[SEED_DATA_KEY];
  const fail = (error: string): SeedResult => ({ ok: false, error });
  if (text === undefined) return fail(`data["${SEED_DATA_KEY}"] is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`data["${SEED_DATA_KEY}"] is not JSON: ${(e as Error).message}`);
  }
  const manifest = record(parsed);
  if (!manifest) return fail(`data["${SEED_DATA_KEY}"] must be a JSON object: a WebUI manifest`);
  const extra = Object.keys(manifest).find((k) => !TOP_LEVEL.has(k));
  if (extra) return fail(`${extra} may not be set in a seed (only apiVersion, kind, metadata, spec)`);
  if (manifest.apiVersion !== API_VERSION)
    return fail(`apiVersion must be ${API_VERSION}, got ${JSON.stringify(manifest.apiVersion)}`);
  if (manifest.kind !== KIND) return fail(`kind must be ${KIND}, got ${JSON.stringify(manifest.kind)}`);
  const metadata = record(manifest.metadata);
  if (!metadata) return fail('metadata must be an object');
  const extraMeta = Object.keys(metadata).find((k) => !METADATA.has(k));
  if (extraMeta)
    return fail(`metadata.${extraMeta} may not be set in a seed (only name, namespace, labels, annotations)`);
  if (typeof metadata.name !== 'string' || metadata.name === '')
    return fail('metadata.name must be a non-empty string');
  if (metadata.namespace !== undefined && metadata.namespace !== namespace)
    return fail(
      `metadata.namespace is ${JSON.stringify(metadata.namespace)}, but the WebUI must be in the seed's namespace "${namespace}"`,
    );
  const labels = stringMap(metadata.labels, 'metadata.labels');
  if (labels.error) return fail(labels.error);
  const annotations = stringMap(metadata.annotations, 'metadata.annotations');
  if (annotations.error) return fail(annotations.error);
  const spec = record(manifest.spec);
  if (!spec) return fail('spec must be an object');
  return {
    ok: true,
    webui: stampApplied({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: {
        name: metadata.name,
        namespace,
        ...(labels.map ? { labels: labels.map } : {}),
        ...(annotations.map ? { annotations: annotations.map } : {}),
        ownerReferences: [seedOwnerReference(seed)],
      },
      spec,
    } as KubernetesObject),
  };
}

/** Paths of the list maps under `node` (see ListMapKeys), from the CRD's OpenAPI. */
function listMapsOf(node: OpenApi, path: string, out: Map<string, readonly string[]>): void {
  const keys = node['x-kubernetes-list-map-keys'];
  if (node['x-kubernetes-list-type'] === 'map' && Array.isArray(keys)) out.set(path, keys as string[]);
  const props = record(node.properties);
  for (const [k, child] of Object.entries(props ?? {})) listMapsOf(child as OpenApi, `${path}.${k}`, out);
  const items = record(node.items);
  if (items) listMapsOf(items, `${path}[]`, out);
}

/**
 * The lists of a WebUI that server-side apply merges by key: others (a user's `kubectl apply
 * --server-side`, another tool's owner reference) may add entries there, and those must not make
 * every check find a difference and write again.
 */
export const SEED_LIST_MAPS: ListMapKeys = (() => {
  const out = new Map<string, readonly string[]>([['metadata.ownerReferences', ['uid']]]);
  listMapsOf(toOpenApi(webuiSpecSchema), 'spec', out);
  return out;
})();

/**
 * Whether the live WebUI lacks what the seed asks for (or the seed changed since the last apply,
 * which the stamped hash shows; that also covers fields the seed stopped setting). Fields that
 * other managers added do not count, so an unchanged seed makes no writes.
 */
export function seedNeedsApply(desired: KubernetesObject, live: KubernetesObject | undefined): boolean {
  return needsApply(desired, live, SEED_LIST_MAPS);
}

/**
 * Why an existing WebUI must not be taken over, or undefined when it may. The seed takes over
 * only what it made (controlled by a seed ConfigMap of the same name, whose uid may be new), or
 * what an earlier version of the chart made for the same release (no controller, and the same
 * `app.kubernetes.io/instance` and `part-of` labels as the seed's WebUI). Anything else is
 * someone's own WebUI, which force-applying and owning would overwrite and, on uninstall, delete.
 */
export function takeoverRefusal(desired: KubernetesObject, live: KubernetesObject): string | undefined {
  const name = `WebUI ${live.metadata?.namespace}/${live.metadata?.name}`;
  const ours = desired.metadata?.ownerReferences?.[0];
  const controller = live.metadata?.ownerReferences?.find((o) => o.controller);
  if (controller) {
    const same =
      controller.apiVersion === ours?.apiVersion &&
      controller.kind === ours?.kind &&
      controller.name === ours?.name;
    return same
      ? undefined
      : `${name} already exists and is controlled by ${controller.kind} ${controller.name}; change webui.name or delete that WebUI`;
  }
  const want = desired.metadata?.labels ?? {};
  const have = live.metadata?.labels ?? {};
  const instance = want[LABEL_INSTANCE];
  if (
    instance !== undefined &&
    have[LABEL_INSTANCE] === instance &&
    have[LABEL_PART_OF] === want[LABEL_PART_OF]
  )
    return undefined;
  return `${name} already exists and was not made from this seed; change webui.name or delete that WebUI`;
}
