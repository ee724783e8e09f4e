/**
 * Status from observed state, as a pure function: conditions follow the
 * Kubernetes API conventions (lastTransitionTime changes only when a
 * condition's status flips; observedGeneration on each), so recomputing the
 * status of an unchanged world yields an equal object and no write.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { settings } from '#contract';
import type { Condition, ConditionStatus, ConditionType, WebUI, WebUIStatus } from '../api/v1alpha1/webui.ts';
import { canonicalJson } from '../render/config-hash.ts';
import { LOOPBACK_ADVICE, type ProbeResult } from './ollama.ts';

export interface RolloutState {
  exists: boolean;
  want: number;
  ready: number;
  updated: number;
  total: number;
  /** The Deployment controller has seen the current template and every pod runs it and is ready. */
  complete: boolean;
  /** The rollout is stuck (ProgressDeadlineExceeded or ReplicaFailure). */
  failed?: string;
}

export function rolloutState(d: V1Deployment | undefined): RolloutState {
  if (!d) return { exists: false, want: 0, ready: 0, updated: 0, total: 0, complete: false };
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = s.readyReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const complete = observed && updated >= want && ready >= want && total <= want;
  const conds = s.conditions ?? [];
  const stuck = conds.find((c) => c.type === 'Progressing' && c.status === 'False');
  const replicaFailure = conds.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const failed = stuck
    ? `${stuck.reason ?? 'ProgressDeadlineExceeded'}: ${stuck.message ?? ''}`.trim()
    : replicaFailure
      ? `${replicaFailure.reason ?? 'ReplicaFailure'}: ${replicaFailure.message ?? ''}`.trim()
      : undefined;
  return { exists: true, want, ready, updated, total, complete, ...(failed ? { failed } : {}) };
}

export interface StatusInput {
  webui: WebUI;
  backend: V1Deployment | undefined;
  frontend: V1Deployment | undefined;
  url: string;
  configHash: string;
  ollama: ProbeResult[];
  /** Problems met while applying children or reading referenced Secrets. */
  errors: string[];
  /** Why pods do not come up (pod-problems.ts): image pulls, crash loops, scheduling, claims. */
  podProblems?: readonly string[];
  now: Date;
}

type CondSpec = { type: ConditionType; status: ConditionStatus; reason: string; message: string };

function envValue(d: V1Deployment | undefined, name: string): string | undefined {
  return d?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === name)?.value;
}

function ollamaCondition(results: ProbeResult[]): CondSpec {
  const loop = results.filter((r) => r.state === 'loopback');
  if (loop.length > 0) {
    return {
      type: 'OllamaReachable',
      status: 'False',
      reason: 'LoopbackURL',
      message: `${loop.map((r) => r.url).join(', ')}: ${LOOPBACK_ADVICE}`,
    };
  }
  const down = results.filter(
    (r): r is Extract<ProbeResult, { state: 'unreachable' }> => r.state === 'unreachable',
  );
  if (down.length > 0) {
    return {
      type: 'OllamaReachable',
      status: 'False',
      reason: 'Unreachable',
      message: `from the operator: ${down.map((r) => r.error).join('; ')}`,
    };
  }
  if (results.length === 0) {
    return {
      type: 'OllamaReachable',
      status: 'Unknown',
      reason: 'NotChecked',
      message: 'no Ollama URL configured',
    };
  }
  const notHere = results.filter(
    (r): r is Extract<ProbeResult, { state: 'notResolvableHere' }> => r.state === 'notResolvableHere',
  );
  if (notHere.length > 0) {
    return {
      type: 'OllamaReachable',
      status: 'Unknown',
      reason: 'OperatorOutsideCluster',
      message: `not checked: ${notHere.map((r) => r.error).join('; ')}`,
    };
  }
  const versions = results.map((r) =>
    r.state === 'reachable' && r.version ? `${r.url} (${r.version})` : r.url,
  );
  return {
    type: 'OllamaReachable',
    status: 'True',
    reason: 'Reachable',
    message: `Ollama answered at ${versions.join(', ')}`,
  };
}

function replicaText(name: string, r: RolloutState): string {
  return `${name} ${r.ready}/${r.want} ready`;
}

export function computeStatus(input: StatusInput): WebUIStatus {
  const { webui, now } = input;
  const generation = webui.metadata.generation ?? 0;
  const prev = webui.status;
  const b = rolloutState(input.backend);
  const f = rolloutState(input.frontend);
  const pods = `${replicaText('backend', b)}, ${replicaText('frontend', f)}`;
  const failed = [b.failed && `backend: ${b.failed}`, f.failed && `frontend: ${f.failed}`].filter(
    Boolean,
  ) as string[];
  const complete = b.exists && f.exists && b.complete && f.complete;
  // Once every pod runs the current template, a passing problem of an old pod is no news.
  const blocked = complete ? [] : [...(input.podProblems ?? [])];
  const problems = [...input.errors, ...failed, ...blocked];

  const conds: CondSpec[] = [];
  if (complete && input.errors.length === 0) {
    conds.push({ type: 'Ready', status: 'True', reason: 'Available', message: pods });
  } else if (input.errors.length > 0) {
    conds.push({
      type: 'Ready',
      status: 'False',
      reason: 'ReconcileFailed',
      message: input.errors.join('; '),
    });
  } else if (blocked.length > 0) {
    conds.push({
      type: 'Ready',
      status: 'False',
      reason: 'PodsBlocked',
      message: `${pods}: ${blocked.join('; ')}`,
    });
  } else {
    conds.push({
      type: 'Ready',
      status: 'False',
      reason: b.exists && f.exists ? 'RollingOut' : 'Creating',
      message: pods,
    });
  }
  if (complete || failed.length > 0) {
    conds.push({
      type: 'Progressing',
      status: 'False',
      reason: failed.length > 0 ? 'RolloutStuck' : 'RolloutComplete',
      message: failed.length > 0 ? [...failed, ...blocked].join('; ') : pods,
    });
  } else {
    conds.push({ type: 'Progressing', status: 'True', reason: 'RollingOut', message: pods });
  }
  conds.push(
    problems.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason:
            input.errors.length > 0 ? 'ReconcileFailed' : failed.length > 0 ? 'RolloutStuck' : 'PodsBlocked',
          message: problems.join('; '),
        }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems' },
  );
  conds.push(ollamaCondition(input.ollama));

  // Config reset: complete once a finished rollout runs the backend with this token.
  const token = webui.spec.config.resetToken;
  let configReset = prev?.configReset;
  if (token === undefined) {
    conds.push({
      type: 'ConfigReset',
      status: 'False',
      reason: 'NotRequested',
      message: 'spec.config.resetToken is not set',
    });
  } else if (configReset?.token === token) {
    conds.push({
      type: 'ConfigReset',
      status: 'True',
      reason: 'ResetCompleted',
      message: `config reset for token ${token} completed at ${configReset.completedAt}`,
    });
  } else if (envValue(input.backend, settings.configResetToken.env) === token && b.complete && b.want > 0) {
    configReset = { token, completedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    conds.push({
      type: 'ConfigReset',
      status: 'True',
      reason: 'ResetCompleted',
      message: `config reset for token ${token} completed at ${configReset.completedAt}`,
    });
  } else {
    conds.push({
      type: 'ConfigReset',
      status: 'False',
      reason: b.want === 0 ? 'WaitingForReplicas' : 'ResetInProgress',
      message:
        b.want === 0
          ? `backend has 0 replicas; the reset for token ${token} runs when it starts`
          : `rolling the backend with ${settings.configResetToken.env}=${token}`,
    });
  }

  return {
    observedGeneration: generation,
    url: input.url,
    backend: { replicas: b.want, readyReplicas: b.ready, updatedReplicas: b.updated },
    frontend: { replicas: f.want, readyReplicas: f.ready, updatedReplicas: f.updated },
    configHash: input.configHash,
    ...(configReset ? { configReset } : {}),
    conditions: mergeConditions(prev?.conditions ?? [], conds, generation, now),
  };
}

/** Keeps lastTransitionTime of conditions whose status did not flip. */
export function mergeConditions(
  prev: readonly Condition[],
  next: CondSpec[],
  generation: number,
  now: Date,
): Condition[] {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return next.map((c) => {
    const old = prev.find((p) => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : stamp,
      observedGeneration: generation,
    };
  });
}

/** Whether writing `next` would change anything. */
export function statusDiffers(prev: WebUIStatus | undefined, next: WebUIStatus): boolean {
  return canonicalJson(prev ?? {}) !== canonicalJson(next);
}

export function condition(s: WebUIStatus | undefined, type: ConditionType): Condition | undefined {
  return s?.conditions?.find((c) => c.type === type);
}
