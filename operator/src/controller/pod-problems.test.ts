import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podProblems, slimPod } from './pod-problems.ts';

function pod(name: string, component: string, status: V1Pod['status'], extra: Partial<V1Pod> = {}): V1Pod {
  return {
    metadata: { name, labels: { 'app.kubernetes.io/component': component } },
    status,
    ...extra,
  };
}
const waiting = (
  reason: string,
  message?: string,
  more: Partial<V1ContainerStatus> = {},
): V1ContainerStatus => ({
  name: 'webui',
  image: 'localhost/webui:missing',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, ...(message ? { message } : {}) } },
  ...more,
});

describe('podProblems', () => {
  it('names the image a pod cannot pull, once for several pods', () => {
    const status = {
      phase: 'Pending',
      containerStatuses: [waiting('ImagePullBackOff', 'Back-off pulling image "localhost/webui:missing"')],
    };
    expect(
      podProblems([pod('chat-frontend-a', 'frontend', status), pod('chat-frontend-b', 'frontend', status)]),
    ).toEqual([
      'frontend pods (2) cannot pull image localhost/webui:missing: ImagePullBackOff: Back-off pulling image "localhost/webui:missing"',
    ]);
  });

  it('says how a crash-looping container last ended', () => {
    const c = waiting('CrashLoopBackOff', 'back-off 40s restarting failed container', {
      restartCount: 3,
      lastState: { terminated: { exitCode: 2, reason: 'Error', message: 'WEBUI_SECRET_KEY: too short' } },
    });
    expect(
      podProblems([pod('chat-backend-x', 'backend', { phase: 'Running', containerStatuses: [c] })]),
    ).toEqual([
      'backend pod container webui is crash-looping (3 restarts); last exit code 2 (Error): WEBUI_SECRET_KEY: too short',
    ]);
  });

  it("passes on the scheduler's reason, and names a claim that is not bound", () => {
    const unschedulable = {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/1 nodes are available: 1 Insufficient cpu.',
        },
      ],
    };
    const claim = {
      metadata: { name: 'chat-data' },
      spec: { storageClassName: 'fast' },
      status: { phase: 'Pending' },
    };
    expect(podProblems([pod('chat-backend-x', 'backend', unschedulable)], [claim])).toEqual([
      'backend pod cannot be scheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.',
      'claim chat-data is Pending, not bound (storage class fast)',
    ]);
  });

  it('reports a container that cannot be created from its spec (a missing Secret)', () => {
    const c = waiting('CreateContainerConfigError', 'secret "chat-db" not found');
    expect(
      podProblems([pod('chat-backend-x', 'backend', { phase: 'Pending', containerStatuses: [c] })]),
    ).toEqual([
      'backend pod container webui cannot start: CreateContainerConfigError: secret "chat-db" not found',
    ]);
  });

  it('has nothing to say about pods that start normally, run, or are going away', () => {
    const creating = waiting('ContainerCreating');
    const bound = { metadata: { name: 'chat-data' }, status: { phase: 'Pending' } };
    expect(
      podProblems(
        [
          pod('a', 'backend', { phase: 'Pending', containerStatuses: [creating] }),
          pod('b', 'backend', {
            phase: 'Running',
            containerStatuses: [{ ...creating, state: { running: {} } }],
          }),
          pod(
            'c',
            'backend',
            { phase: 'Pending', containerStatuses: [waiting('ImagePullBackOff')] },
            {
              metadata: { name: 'c', deletionTimestamp: new Date(0), labels: {} },
            },
          ),
        ],
        [bound],
      ),
    ).toEqual([]);
  });
});

describe('slimPod', () => {
  it('keeps identity, labels and what podProblems reads, and drops the rest', () => {
    const full: V1Pod = {
      metadata: {
        name: 'p',
        namespace: 'ns',
        uid: 'u',
        resourceVersion: '7',
        labels: { a: 'b' },
        annotations: { big: 'x'.repeat(1000) },
        managedFields: [{ manager: 'kubelet' }],
      },
      spec: { containers: [{ name: 'webui', env: [{ name: 'SECRET', value: 's' }] }] },
      status: {
        phase: 'Pending',
        podIP: '198.18.0.5',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: 'm',
            lastProbeTime: null as unknown as undefined,
          },
        ],
        containerStatuses: [waiting('ErrImagePull', 'no such image')],
      },
    };
    const slim = slimPod(full);
    expect(JSON.stringify(slim)).not.toMatch(/SECRET|annotations|managedFields|podIP|big/);
    expect(podProblems([slim])).toEqual(podProblems([full]));
    expect(slim.metadata).toEqual({
      name: 'p',
      namespace: 'ns',
      uid: 'u',
      resourceVersion: '7',
      labels: { a: 'b' },
    });
  });
});
