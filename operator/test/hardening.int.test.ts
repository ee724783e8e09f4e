/**
 * Issue 14 against a real kube-apiserver + kube-controller-manager: what the CRD refuses (a query or
 * fragment in an Ollama URL, a trusted proxy that is not an address or CIDR), and what the operator
 * renders for the backend's safety (a NetworkPolicy whose selectors pick exactly the backend pods and
 * the frontend pods, memory limits with a matching heap cap) as the API server stores it.
 *
 * The dev node's CNI (bridge) does not enforce NetworkPolicy, so the policy's effect is proven here
 * by its selectors against the pods the Deployment controller created, not by traffic.
 */
import { ApiException, NetworkingV1Api, type V1NetworkPolicy, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { NODE_OPTIONS_ENV } from '#contract';
import type { WebUISpecInput } from '../src/api/v1alpha1/webui.ts';
import { createWebUI, deployment, useControllerWorld, waitFor } from './support.ts';

const NS = 'hardening';
const OLLAMA = 'http://ollama.ollama.svc:11434';

const world = useControllerWorld(NS);

/** The API server's refusal message for a WebUI with this spec ('' when it is accepted). */
async function refusal(name: string, spec: WebUISpecInput): Promise<string> {
  try {
    await createWebUI(world.c, NS, name, spec);
    return '';
  } catch (e) {
    return e instanceof ApiException ? String(e.body) : String(e);
  }
}

describe('CRD validation', () => {
  it('refuses a query or fragment in an Ollama URL, with a message that says why', async () => {
    expect(
      await refusal('q1', { ollama: { baseUrl: `${OLLAMA}/?redirect=http://169.254.169.254` } }),
    ).toContain('must not contain a query (?) or fragment (#)');
    expect(await refusal('q2', { ollama: { baseUrls: [OLLAMA, `${OLLAMA}#x`] } })).toContain(
      'must not contain a query (?) or fragment (#)',
    );
    expect(await refusal('q3', { ollama: { baseUrl: `${OLLAMA}/ollama/` } })).toBe('');
  });

  it('takes trusted proxies as addresses or CIDR ranges only', async () => {
    expect(
      await refusal('p1', { ollama: { baseUrl: OLLAMA }, network: { trustedProxies: ['ingress.local'] } }),
    ).toContain('must be an IP address or CIDR range such as 10.42.0.0/16 or fd00::/8');
    expect(
      await refusal('p2', { ollama: { baseUrl: OLLAMA }, network: { trustedProxies: ['10.0.0.0/33'] } }),
    ).toContain('must be an IP address or CIDR range');
    expect(
      await refusal('p3', { ollama: { baseUrl: OLLAMA }, network: { trustedProxies: ['*'] } }),
    ).toContain('must be an IP address or CIDR range');
    expect(
      await refusal('p4', {
        ollama: { baseUrl: OLLAMA },
        network: { trustedProxies: ['10.42.0.0/16', '192.0.2.10', 'fd00::/8', '::1'] },
      }),
    ).toBe('');
  });
});

describe('what the operator renders for the backend', () => {
  it('a NetworkPolicy that admits exactly the frontend pods to exactly the backend pods', async () => {
    // Two WebUIs in one namespace: the policy of one must not select, or admit, the other's pods.
    await createWebUI(world.c, NS, 'one', { ollama: { baseUrl: OLLAMA } });
    await createWebUI(world.c, NS, 'two', { ollama: { baseUrl: OLLAMA }, frontend: { replicas: 2 } });
    const net = world.cp.kubeConfig.makeApiClient(NetworkingV1Api);
    const policy = await waitFor('the NetworkPolicy one-backend', async () =>
      net.readNamespacedNetworkPolicy({ name: 'one-backend', namespace: NS }).catch(() => undefined),
    );
    const podsMatching = async (labels: Record<string, string> | undefined) => {
      const selector = Object.entries(labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      expect(selector).not.toBe('');
      const pods = await world.c.core.listNamespacedPod({ namespace: NS, labelSelector: selector });
      return pods.items.map((p) => p.metadata?.name ?? '').sort();
    };
    // The Deployment controller makes the pods (no kubelet runs them), and may still be replacing
    // some while the operator settles the Deployments: compare the API server's selection with the
    // labels in one consistent moment, retried until the pods stop changing.
    const namesOf = (pods: V1Pod[], instance: string, component: string) =>
      pods
        .filter(
          (p) =>
            p.metadata?.labels?.['app.kubernetes.io/instance'] === instance &&
            p.metadata?.labels?.['app.kubernetes.io/component'] === component,
        )
        .map((p) => p.metadata?.name ?? '')
        .sort();
    const spec = (policy as V1NetworkPolicy).spec;
    expect(spec?.policyTypes).toEqual(['Ingress']);
    expect(spec?.ingress).toHaveLength(1);
    const rule = spec?.ingress?.[0];
    expect(rule?._from).toHaveLength(1);
    expect(rule?._from?.[0]?.namespaceSelector).toBeUndefined();
    expect(rule?._from?.[0]?.ipBlock).toBeUndefined();
    const selections = async () => {
      const before = (await world.c.core.listNamespacedPod({ namespace: NS })).items;
      const chosen = {
        backends: await podsMatching(spec?.podSelector?.matchLabels),
        frontends: await podsMatching(rule?._from?.[0]?.podSelector?.matchLabels),
      };
      const after = (await world.c.core.listNamespacedPod({ namespace: NS })).items;
      const same = (x: V1Pod[], y: V1Pod[]) =>
        JSON.stringify(x.map((p) => p.metadata?.name).sort()) ===
        JSON.stringify(y.map((p) => p.metadata?.name).sort());
      const present = ['backend', 'frontend'].every((c) => namesOf(after, 'one', c).length > 0);
      return { stable: same(before, after) && present && before.length >= 5, pods: after, ...chosen };
    };
    const seen = await waitFor('pods of both WebUIs, not changing', async () => {
      const s = await selections();
      return s.stable ? s : undefined;
    });
    expect(seen.backends).toEqual(namesOf(seen.pods, 'one', 'backend'));
    expect(seen.frontends).toEqual(namesOf(seen.pods, 'one', 'frontend'));
    expect(seen.backends.length).toBeGreaterThan(0);
    expect(seen.frontends.length).toBeGreaterThan(0);
    // The port is the backend container's named port.
    const backend = await deployment(world.c, NS, 'one-backend');
    const port = backend?.spec?.template.spec?.containers[0]?.ports?.find(
      (p) => p.name === rule?.ports?.[0]?.port,
    );
    expect(port?.containerPort).toBe(8080);
    expect(rule?.ports?.[0]?.protocol).toBe('TCP');
  });

  it('memory limits and a matching heap cap, as the API server stores them', async () => {
    await createWebUI(world.c, NS, 'mem', {
      ollama: { baseUrl: OLLAMA },
      frontend: { resources: { limits: { memory: '0.5Gi' } } },
    });
    const backend = await waitFor('mem-backend', () => deployment(world.c, NS, 'mem-backend'));
    const frontend = await waitFor('mem-frontend', () => deployment(world.c, NS, 'mem-frontend'));
    const b = backend.spec?.template.spec?.containers[0];
    const f = frontend.spec?.template.spec?.containers[0];
    expect(b?.resources?.limits?.memory).toBe('512Mi');
    expect(b?.env?.find((e) => e.name === NODE_OPTIONS_ENV)?.value).toBe('--max-old-space-size=256');
    // The API server canonicalizes 0.5Gi to 512Mi; the heap cap was computed from the value.
    expect(f?.resources?.limits?.memory).toBe('512Mi');
    expect(f?.env?.find((e) => e.name === NODE_OPTIONS_ENV)?.value).toBe('--max-old-space-size=256');
  });
});
