import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultSpec, type WebUI, type WebUIStatus } from '../api/v1alpha1/webui.ts';
import { computeStatus, rolloutState, type StatusInput, statusDiffers } from './status.ts';

function deploy(opts: {
  generation?: number;
  observed?: number;
  want?: number;
  ready?: number;
  updated?: number;
  total?: number;
  token?: string;
}): V1Deployment {
  const want = opts.want ?? 1;
  return {
    metadata: { generation: opts.generation ?? 2 },
    spec: {
      replicas: want,
      selector: {},
      template: {
        spec: {
          containers: [
            { name: 'backend', env: opts.token ? [{ name: 'CONFIG_RESET_TOKEN', value: opts.token }] : [] },
          ],
        },
      },
    },
    status: {
      observedGeneration: opts.observed ?? opts.generation ?? 2,
      readyReplicas: opts.ready ?? want,
      updatedReplicas: opts.updated ?? want,
      replicas: opts.total ?? want,
    },
  };
}

function input(over: Partial<StatusInput> = {}, resetToken?: string, status?: WebUIStatus): StatusInput {
  const webui: WebUI = {
    apiVersion: 'webui.dev/v1alpha1',
    kind: 'WebUI',
    metadata: { name: 'chat', namespace: 'ns', generation: 3 },
    spec: defaultSpec({
      ollama: { baseUrl: 'http://o:1' },
      ...(resetToken ? { config: { resetToken } } : {}),
    }),
    ...(status ? { status } : {}),
  };
  return {
    webui,
    backend: deploy({}),
    frontend: deploy({}),
    url: 'http://chat-frontend.ns.svc/',
    configHash: 'h',
    ollama: [{ url: 'http://o:1', state: 'reachable', version: '1' }],
    errors: [],
    now: new Date('2026-11-24T10:00:00.123Z'),
    ...over,
  };
}

const cond = (s: WebUIStatus, t: string) => s.conditions?.find((c) => c.type === t);

describe('rolloutState', () => {
  it('is complete only when the template is observed and every pod is updated and ready', () => {
    expect(rolloutState(deploy({})).complete).toBe(true);
    expect(rolloutState(deploy({ generation: 3, observed: 2 })).complete).toBe(false);
    expect(rolloutState(deploy({ ready: 0 })).complete).toBe(false);
    expect(rolloutState(deploy({ updated: 0 })).complete).toBe(false);
    // Old pods still running next to the new one (rolling update).
    expect(rolloutState(deploy({ total: 2 })).complete).toBe(false);
    expect(rolloutState(undefined).exists).toBe(false);
  });
});

describe('computeStatus', () => {
  it('is Ready when both rollouts are complete, with observedGeneration on status and conditions', () => {
    const s = computeStatus(input());
    expect(s.observedGeneration).toBe(3);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Available', observedGeneration: 3 });
    expect(cond(s, 'Progressing')?.status).toBe('False');
    expect(cond(s, 'Degraded')?.status).toBe('False');
    expect(cond(s, 'OllamaReachable')?.status).toBe('True');
    expect(cond(s, 'ConfigReset')).toMatchObject({ status: 'False', reason: 'NotRequested' });
    expect(cond(s, 'Ready')?.lastTransitionTime).toBe('2026-11-24T10:00:00Z');
  });

  it('is Progressing while pods roll and Degraded with errors', () => {
    const rolling = computeStatus(input({ backend: deploy({ ready: 0 }) }));
    expect(cond(rolling, 'Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(cond(rolling, 'Progressing')?.status).toBe('True');
    const broken = computeStatus(input({ errors: ['apply Service x: forbidden'] }));
    expect(cond(broken, 'Degraded')).toMatchObject({ status: 'True', message: 'apply Service x: forbidden' });
    expect(cond(broken, 'Ready')?.status).toBe('False');
  });

  it('says why pods do not come up, in Ready and Degraded, while the rollout is not complete', () => {
    const problem = 'backend pod cannot pull image localhost/webui:missing: ImagePullBackOff';
    const s = computeStatus(input({ backend: deploy({ ready: 0 }), podProblems: [problem] }));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodsBlocked' });
    expect(cond(s, 'Ready')?.message).toBe(`backend 0/1 ready, frontend 1/1 ready: ${problem}`);
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'PodsBlocked', message: problem });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    // A complete rollout is Ready whatever an old pod on its way out says.
    const done = computeStatus(input({ podProblems: [problem] }));
    expect(cond(done, 'Ready')?.status).toBe('True');
    expect(cond(done, 'Degraded')?.status).toBe('False');
  });

  it('reports a stuck rollout (ProgressDeadlineExceeded) as Degraded and no longer Progressing', () => {
    const stuck = deploy({ ready: 0 });
    stuck.status = {
      ...stuck.status,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "chat-backend-1" has timed out progressing.',
        },
      ],
    };
    const s = computeStatus(input({ backend: stuck }));
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutStuck' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'RolloutStuck' });
    expect(cond(s, 'Degraded')?.message).toContain('ProgressDeadlineExceeded');
    expect(cond(s, 'Ready')?.status).toBe('False');
  });

  it('explains loopback URLs and lists unreachable ones', () => {
    const loop = computeStatus(input({ ollama: [{ url: 'http://localhost:11434', state: 'loopback' }] }));
    expect(cond(loop, 'OllamaReachable')).toMatchObject({ status: 'False', reason: 'LoopbackURL' });
    expect(cond(loop, 'OllamaReachable')?.message).toContain('is the WebUI pod itself');
    const down = computeStatus(
      input({ ollama: [{ url: 'http://o:1', state: 'unreachable', error: 'ECONNREFUSED' }] }),
    );
    expect(cond(down, 'OllamaReachable')).toMatchObject({ status: 'False', reason: 'Unreachable' });
    expect(cond(down, 'OllamaReachable')?.message).toContain('ECONNREFUSED');
  });

  it('says the operator runs outside the cluster instead of calling a Service name unreachable', () => {
    const error =
      'GET http://ollama.ollama.svc:11434/api/version failed: ENOTFOUND; the operator runs outside the cluster';
    const s = computeStatus(
      input({ ollama: [{ url: 'http://ollama.ollama.svc:11434', state: 'notResolvableHere', error }] }),
    );
    expect(cond(s, 'OllamaReachable')).toMatchObject({ status: 'Unknown', reason: 'OperatorOutsideCluster' });
    expect(cond(s, 'OllamaReachable')?.message).toContain('runs outside the cluster');
  });

  it('completes a config reset only after a finished rollout that carries the token', () => {
    const pending = computeStatus(input({ backend: deploy({ token: 'r1', ready: 0 }) }, 'r1'));
    expect(cond(pending, 'ConfigReset')).toMatchObject({ status: 'False', reason: 'ResetInProgress' });
    expect(pending.configReset).toBeUndefined();
    const oldTemplate = computeStatus(input({ backend: deploy({}) }, 'r1'));
    expect(oldTemplate.configReset).toBeUndefined();
    const done = computeStatus(input({ backend: deploy({ token: 'r1' }) }, 'r1'));
    expect(done.configReset).toEqual({ token: 'r1', completedAt: '2026-11-24T10:00:00Z' });
    expect(cond(done, 'ConfigReset')).toMatchObject({ status: 'True', reason: 'ResetCompleted' });
    // Recorded completion is kept on later passes (same completedAt, no new write).
    const later = computeStatus({
      ...input({ backend: deploy({ token: 'r1' }) }, 'r1', done),
      now: new Date('2026-11-25T00:00:00Z'),
    });
    expect(later.configReset).toEqual(done.configReset);
    expect(statusDiffers(done, later)).toBe(false);
  });

  it('keeps lastTransitionTime unless a status flips', () => {
    const first = computeStatus(input());
    const same = computeStatus({ ...input({}, undefined, first), now: new Date('2026-12-01T00:00:00Z') });
    expect(statusDiffers(first, same)).toBe(false);
    const flipped = computeStatus({
      ...input({ backend: deploy({ ready: 0 }) }, undefined, first),
      now: new Date('2026-12-01T00:00:00Z'),
    });
    expect(cond(flipped, 'Ready')?.lastTransitionTime).toBe('2026-12-01T00:00:00Z');
    expect(cond(flipped, 'OllamaReachable')?.lastTransitionTime).toBe(
      cond(first, 'OllamaReachable')?.lastTransitionTime,
    );
  });
});
