/**
 * Container resources with a memory limit always set, and the Node heap cap
 * matched to it. Without a limit one signed-in user could grow a pod until the
 * node runs short (issue 14, finding 3); without a matched heap cap V8 sizes
 * its heap from the node's memory and lets garbage pile up past the
 * container's limit before collecting, so the kernel's OOM killer ends a pod
 * that a collection would have kept alive.
 */
import type { V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import { NODE_OPTIONS_ENV } from '#contract';
import { DEFAULT_MEMORY } from '../api/v1alpha1/webui.ts';
import { quantityValue } from '../kube/drift.ts';

export type Component = 'backend' | 'frontend';

const MiB = 2 ** 20;
/** Below this V8 cannot start the server at all; a smaller limit fails anyway. */
const MIN_HEAP_MIB = 32;

export const DEFAULT_RESOURCES: Record<
  Component,
  { requests: { memory: string }; limits: { memory: string } }
> = {
  backend: {
    requests: { memory: DEFAULT_MEMORY.backend.request },
    limits: { memory: DEFAULT_MEMORY.backend.limit },
  },
  frontend: {
    requests: { memory: DEFAULT_MEMORY.frontend.request },
    limits: { memory: DEFAULT_MEMORY.frontend.limit },
  },
};

type Quantities = Record<string, string | number>;

/**
 * The V8 old-space cap for a memory limit: half of it. The other half is Node
 * itself (~65 MB of code, malloc and young generation at rest) and buffers that
 * live outside the heap (request bodies, streamed answers, sockets).
 */
export function heapCapMiB(memoryLimit: string | number): number | undefined {
  const bytes = typeof memoryLimit === 'number' ? memoryLimit : quantityValue(memoryLimit);
  if (bytes === undefined || !Number.isFinite(bytes) || bytes <= 0) return undefined;
  return Math.max(MIN_HEAP_MIB, Math.floor(bytes / MiB / 2));
}

const str = (q: Quantities | undefined) =>
  q ? Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])) : {};

const bytesOf = (q: string | undefined) => (q === undefined ? undefined : quantityValue(q));

/**
 * The container's resources: the spec's, with the memory request and limit
 * defaulted where the spec leaves them out. A defaulted request never exceeds
 * the limit and a defaulted limit is never below the request (the API server
 * refuses request > limit).
 */
export function containerResources(
  component: Component,
  spec: { requests?: Quantities; limits?: Quantities } | undefined,
): V1ResourceRequirements {
  const requests = str(spec?.requests);
  const limits = str(spec?.limits);
  const def = DEFAULT_RESOURCES[component];
  if (limits.memory === undefined) {
    const req = bytesOf(requests.memory);
    const defLimit = bytesOf(def.limits.memory) ?? 0;
    limits.memory = req !== undefined && req > defLimit ? (requests.memory as string) : def.limits.memory;
  }
  if (requests.memory === undefined) {
    const lim = bytesOf(limits.memory);
    const defReq = bytesOf(def.requests.memory) ?? 0;
    requests.memory = lim !== undefined && lim < defReq ? limits.memory : def.requests.memory;
  }
  return { requests, limits };
}

/**
 * NODE_OPTIONS with the heap cap for these resources, unless `given` (the
 * names spec.extraEnv sets) already has NODE_OPTIONS: the spec wins.
 */
export function heapCapEnv(
  resources: V1ResourceRequirements,
  given: ReadonlySet<string> = new Set(),
): V1EnvVar[] {
  if (given.has(NODE_OPTIONS_ENV)) return [];
  const limit = resources.limits?.memory;
  const mib = limit === undefined ? undefined : heapCapMiB(limit);
  return mib === undefined ? [] : [{ name: NODE_OPTIONS_ENV, value: `--max-old-space-size=${mib}` }];
}
