/**
 * Why a WebUI's pods do not come up, in words an admin can act on, from the
 * pods' own status (a pure function of what the pod watch holds). A rollout
 * that cannot progress otherwise says only "RollingOut", and ten minutes
 * later a generic ProgressDeadlineExceeded.
 */
import type { V1ContainerStatus, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { LABEL_COMPONENT } from '../render/meta.ts';

/** Waiting reasons that mean the image cannot be had. */
const PULL_FAILURES = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']);
/** Waiting reasons that mean the container cannot be created from its spec (a missing Secret key, say). */
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
const MAX_DETAIL = 300;

const clip = (s: string | undefined): string => {
  const t = (s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > MAX_DETAIL ? `${t.slice(0, MAX_DETAIL)}…` : t;
};

/** What is wrong with one container, or undefined while it is fine or still starting normally. */
function containerProblem(c: V1ContainerStatus): string | undefined {
  const waiting = c.state?.waiting;
  const reason = waiting?.reason ?? '';
  if (PULL_FAILURES.has(reason)) {
    return `cannot pull image ${c.image}: ${reason}${waiting?.message ? `: ${clip(waiting.message)}` : ''}`;
  }
  if (reason === 'CrashLoopBackOff') {
    const last = c.lastState?.terminated;
    const exit = last
      ? `exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}${last.message ? `: ${clip(last.message)}` : ''}`
      : 'no exit recorded';
    return `container ${c.name} is crash-looping (${c.restartCount} restarts); last ${exit}`;
  }
  if (CONFIG_FAILURES.has(reason)) {
    return `container ${c.name} cannot start: ${reason}${waiting?.message ? `: ${clip(waiting.message)}` : ''}`;
  }
  return undefined;
}

/** What keeps one pod from running, or undefined. */
function podProblem(pod: V1Pod): string | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const c of statuses) {
    const p = containerProblem(c);
    if (p) return p;
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (pod.status?.phase === 'Pending' && scheduled?.status === 'False') {
    return `cannot be scheduled: ${scheduled.reason ?? 'Unschedulable'}${scheduled.message ? `: ${clip(scheduled.message)}` : ''}`;
  }
  return undefined;
}

/**
 * One line per distinct problem, per component ("backend" or "frontend"),
 * with how many pods have it. `claims`: the WebUI's data claim, named when a
 * pod cannot be scheduled and the claim is not bound (a missing StorageClass,
 * say).
 */
export function podProblems(
  pods: readonly V1Pod[],
  claims: readonly V1PersistentVolumeClaim[] = [],
): string[] {
  const counts = new Map<string, number>();
  for (const pod of [...pods].sort((a, b) =>
    (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )) {
    const problem = podProblem(pod);
    if (!problem) continue;
    const component = pod.metadata?.labels?.[LABEL_COMPONENT] ?? 'pod';
    const key = `${component} ${problem}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const lines = [...counts].map(([key, n]) => {
    const [component, ...rest] = key.split(' ');
    return `${component} pod${n > 1 ? `s (${n})` : ''} ${rest.join(' ')}`;
  });
  if (lines.some((l) => l.includes('cannot be scheduled'))) {
    for (const claim of claims) {
      const phase = claim.status?.phase ?? 'Pending';
      if (phase !== 'Bound') {
        lines.push(
          `claim ${claim.metadata?.name} is ${phase}, not bound${claim.spec?.storageClassName ? ` (storage class ${claim.spec.storageClassName})` : ' (no storage class named; is there a default one?)'}`,
        );
      }
    }
  }
  return lines;
}

/**
 * What a pod watch needs to keep of a pod: its identity, labels and the
 * status fields podProblems reads. Everything else (the spec, env, volumes,
 * managed fields) is dropped, so many pods cost little memory.
 */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const s = pod.status ?? {};
  const container = (c: V1ContainerStatus): V1ContainerStatus => ({
    name: c.name,
    image: c.image,
    imageID: c.imageID,
    ready: c.ready,
    restartCount: c.restartCount,
    ...(c.state ? { state: c.state } : {}),
    ...(c.lastState ? { lastState: c.lastState } : {}),
  });
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    status: {
      ...(s.phase ? { phase: s.phase } : {}),
      ...(s.conditions
        ? {
            conditions: s.conditions.map(({ type, status, reason, message }) => ({
              type,
              status,
              reason,
              message,
            })),
          }
        : {}),
      ...(s.containerStatuses ? { containerStatuses: s.containerStatuses.map(container) } : {}),
      ...(s.initContainerStatuses ? { initContainerStatuses: s.initContainerStatuses.map(container) } : {}),
    },
  };
}
