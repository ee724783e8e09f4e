import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { APPLIED_HASH_ANNOTATION } from '../kube/drift.ts';
import { SEED_DATA_KEY, SEED_LIST_MAPS, seedNeedsApply, seedWebUI, takeoverRefusal } from './seed.ts';

const manifest = {
  apiVersion: 'webui.dev/v1alpha1',
  kind: 'WebUI',
  metadata: {
    name: 'chat',
    namespace: 'ops',
    labels: { 'app.kubernetes.io/instance': 'wo', 'app.kubernetes.io/part-of': 'webui-operator' },
    annotations: { team: 'a' },
  },
  spec: {
    ollama: { baseUrl: 'http://ollama:11434', timeoutSeconds: 600 },
    extraEnv: [{ name: 'JWT_EXPIRES_IN', value: '1h' }],
  },
};

function seed(data: unknown, uid = 'seed-uid'): V1ConfigMap {
  return {
    metadata: { name: 'wo-webui-operator-webui-chat', namespace: 'ops', uid },
    data: { [SEED_DATA_KEY]: typeof data === 'string' ? data : JSON.stringify(data) },
  };
}

function desired(data: unknown = manifest): KubernetesObject {
  const r = seedWebUI(seed(data));
  if (!r.ok) throw new Error(r.error);
  return r.webui;
}

/** What the API server returns after applying `d`: defaults and server fields added. */
function live(d: KubernetesObject, edit: (o: Record<string, never>) => void = () => {}): KubernetesObject {
  const o = structuredClone(d) as KubernetesObject & { spec: Record<string, unknown>; status?: unknown };
  o.metadata = { ...o.metadata, uid: 'w-uid', resourceVersion: '7', generation: 1 };
  o.spec = { ...o.spec, persistence: { size: '1Gi', retainOnDelete: true } };
  o.status = { observedGeneration: 1 };
  edit(o as unknown as Record<string, never>);
  return o;
}

describe('seedWebUI', () => {
  it('builds the WebUI in the seed namespace, owned by the seed, stamped with its hash', () => {
    const w = desired();
    expect(w).toMatchObject({
      apiVersion: 'webui.dev/v1alpha1',
      kind: 'WebUI',
      metadata: {
        name: 'chat',
        namespace: 'ops',
        labels: manifest.metadata.labels,
        annotations: { team: 'a' },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'wo-webui-operator-webui-chat',
            uid: 'seed-uid',
            controller: true,
          },
        ],
      },
      spec: manifest.spec,
    });
    expect(w.metadata?.ownerReferences?.[0]?.blockOwnerDeletion).toBeUndefined();
    expect(w.metadata?.annotations?.[APPLIED_HASH_ANNOTATION]).toMatch(/^[a-f0-9]{16,}$/);
    // The namespace may be left out: the seed's own is used.
    const { namespace: _ns, ...meta } = manifest.metadata;
    expect(desired({ ...manifest, metadata: meta }).metadata?.namespace).toBe('ops');
    // A re-created seed (new uid) re-owns the WebUI: the hash changes, so it is applied again.
    const r = seedWebUI(seed(manifest, 'new-uid'));
    expect(r.ok && r.webui.metadata?.annotations?.[APPLIED_HASH_ANNOTATION]).not.toBe(
      w.metadata?.annotations?.[APPLIED_HASH_ANNOTATION],
    );
  });

  it('refuses a seed that is not a WebUI manifest, naming the field', () => {
    const error = (data: unknown) => {
      const r = seedWebUI(seed(data));
      return r.ok ? 'accepted' : r.error;
    };
    expect(seedWebUI({ metadata: { name: 's', namespace: 'ops', uid: 'u' }, data: {} })).toEqual({
      ok: false,
      error: 'data["webui.json"] is missing',
    });
    expect(error('{"apiVersion": ')).toMatch(/^data\["webui.json"\] is not JSON: /);
    expect(error('[]')).toBe('data["webui.json"] must be a JSON object: a WebUI manifest');
    expect(error({ ...manifest, status: {} })).toBe(
      'status may not be set in a seed (only apiVersion, kind, metadata, spec)',
    );
    expect(error({ ...manifest, apiVersion: 'webui.dev/v1' })).toBe(
      'apiVersion must be webui.dev/v1alpha1, got "webui.dev/v1"',
    );
    expect(error({ ...manifest, kind: 'Deployment' })).toBe('kind must be WebUI, got "Deployment"');
    expect(error({ ...manifest, metadata: 'chat' })).toBe('metadata must be an object');
    expect(error({ ...manifest, metadata: { ...manifest.metadata, finalizers: ['x'] } })).toBe(
      'metadata.finalizers may not be set in a seed (only name, namespace, labels, annotations)',
    );
    expect(error({ ...manifest, metadata: { namespace: 'ops' } })).toBe(
      'metadata.name must be a non-empty string',
    );
    expect(error({ ...manifest, metadata: { ...manifest.metadata, namespace: 'other' } })).toBe(
      'metadata.namespace is "other", but the WebUI must be in the seed\'s namespace "ops"',
    );
    expect(error({ ...manifest, metadata: { name: 'chat', labels: { a: 1 } } })).toBe(
      'metadata.labels.a must be a string, got 1',
    );
    expect(error({ ...manifest, metadata: { name: 'chat', annotations: [] } })).toBe(
      'metadata.annotations must be an object of strings',
    );
    expect(error({ ...manifest, spec: null })).toBe('spec must be an object');
  });
});

describe('seedNeedsApply', () => {
  it('needs no apply when the live WebUI holds the seed, whatever the server and others added', () => {
    const d = desired();
    expect(seedNeedsApply(d, live(d))).toBe(false);
    // Another manager's env entry, label and owner reference are theirs: no write for them.
    const added = live(d, (o) => {
      const x = o as unknown as KubernetesObject & { spec: { extraEnv: unknown[] } };
      x.spec.extraEnv = [{ name: 'WEBUI_URL', value: 'https://chat.example' }, ...x.spec.extraEnv];
      x.metadata = {
        ...x.metadata,
        labels: { ...x.metadata?.labels, mine: 'yes' },
        ownerReferences: [
          { apiVersion: 'example.dev/v1', kind: 'Thing', name: 't', uid: 't-uid' },
          ...(x.metadata?.ownerReferences ?? []),
        ],
      };
    });
    expect(seedNeedsApply(d, added)).toBe(false);
    expect(SEED_LIST_MAPS.get('spec.extraEnv')).toEqual(['name']);
  });

  it('applies when the WebUI is missing, a seed field was changed by hand, or the seed changed', () => {
    const d = desired();
    expect(seedNeedsApply(d, undefined)).toBe(true);
    const edited = live(d, (o) => {
      (o as unknown as { spec: { ollama: { timeoutSeconds: number } } }).spec.ollama.timeoutSeconds = 30;
    });
    expect(seedNeedsApply(d, edited)).toBe(true);
    // The seed stopped setting a field: only the hash shows it, and SSA then removes the field.
    const fewer = desired({ ...manifest, spec: { ollama: manifest.spec.ollama } });
    expect(seedNeedsApply(fewer, live(d))).toBe(true);
  });
});

describe('takeoverRefusal', () => {
  const d = desired();

  it('takes over what the seed made, also after the seed was re-created with a new uid', () => {
    expect(takeoverRefusal(d, live(d))).toBeUndefined();
    const older = live(d, (o) => {
      const x = o as unknown as KubernetesObject;
      x.metadata = { ...x.metadata, ownerReferences: [{ ...d.metadata!.ownerReferences![0]!, uid: 'old' }] };
    });
    expect(takeoverRefusal(d, older)).toBeUndefined();
  });

  it('takes over what an earlier chart made for the same release (no owner, same instance labels)', () => {
    const helmMade: KubernetesObject = {
      metadata: {
        name: 'chat',
        namespace: 'ops',
        labels: { ...manifest.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' },
      },
    };
    expect(takeoverRefusal(d, helmMade)).toBeUndefined();
  });

  it("refuses someone's own WebUI and one controlled by another seed", () => {
    const own: KubernetesObject = { metadata: { name: 'chat', namespace: 'ops', labels: { team: 'a' } } };
    expect(takeoverRefusal(d, own)).toBe(
      'WebUI ops/chat already exists and was not made from this seed; change webui.name or delete that WebUI',
    );
    const otherRelease: KubernetesObject = {
      metadata: {
        name: 'chat',
        namespace: 'ops',
        labels: { ...manifest.metadata.labels, 'app.kubernetes.io/instance': 'x' },
      },
    };
    expect(takeoverRefusal(d, otherRelease)).toMatch(/not made from this seed/);
    const otherSeed: KubernetesObject = {
      metadata: {
        name: 'chat',
        namespace: 'ops',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'x-webui', uid: 'x', controller: true },
        ],
      },
    };
    expect(takeoverRefusal(d, otherSeed)).toBe(
      'WebUI ops/chat already exists and is controlled by ConfigMap x-webui; change webui.name or delete that WebUI',
    );
  });
});
