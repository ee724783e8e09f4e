/**
 * Status that explains stuck pods (issue 15): the operator watches the pods of its WebUIs and puts
 * why they do not come up into Ready and Degraded. Here the pods' status is written the way a
 * kubelet would (there is none on a control plane alone); the real node's e2e suite shows it with
 * a kubelet that really cannot pull an image.
 */
import { expect, it } from 'vitest';
import { createWebUI, getWebUI, MERGE, useControllerWorld, waitFor } from './support.ts';

const NS = 'pod-status';

const world = useControllerWorld(NS);

const cond = async (type: string) =>
  (await getWebUI(world.c, NS, 'stuck')).status?.conditions?.find((x) => x.type === type);

it('says which image the backend cannot pull, and then that it crash-loops, in Ready and Degraded', async () => {
  await createWebUI(world.c, NS, 'stuck', { ollama: { baseUrl: 'http://ollama.ollama.svc:11434' } });
  const pod = await waitFor('a backend pod', async () => {
    const pods = await world.c.core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/instance=stuck,app.kubernetes.io/component=backend',
    });
    return pods.items[0];
  });
  const image = pod.spec?.containers[0]?.image ?? '';
  const setContainer = (status: object) =>
    world.c.core.patchNamespacedPodStatus(
      {
        name: pod.metadata?.name ?? '',
        namespace: NS,
        body: {
          status: {
            phase: 'Pending',
            containerStatuses: [
              { name: 'webui', image, imageID: '', ready: false, restartCount: 0, ...status },
            ],
          },
        },
      },
      MERGE,
    );

  await setContainer({
    state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
  });
  const ready = await waitFor('Ready to say PodsBlocked', async () => {
    const r = await cond('Ready');
    return r?.reason === 'PodsBlocked' ? r : undefined;
  });
  expect(ready.status).toBe('False');
  expect(ready.message).toContain(`backend pod cannot pull image ${image}: ImagePullBackOff`);
  expect(await cond('Degraded')).toMatchObject({ status: 'True', reason: 'PodsBlocked' });

  await setContainer({
    restartCount: 4,
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s' } },
    lastState: {
      terminated: { exitCode: 2, reason: 'Error', message: 'WEBUI_SECRET_KEY is 5 bytes; use at least 32' },
    },
  });
  const crash = await waitFor('Ready to name the crash loop', async () => {
    const r = await cond('Ready');
    return r?.message?.includes('crash-looping') ? r : undefined;
  });
  expect(crash.message).toContain(
    'backend pod container webui is crash-looping (4 restarts); last exit code 2 (Error): WEBUI_SECRET_KEY is 5 bytes; use at least 32',
  );
  expect((await cond('Degraded'))?.message).toContain('crash-looping');
}, 120_000);
