import { describe, expect, it } from 'vitest';
import { defaultSpec, type WebUI, type WebUISpecInput } from '../api/v1alpha1/webui.ts';
import { readsSecret, referencedSecrets } from './secret-refs.ts';

const meta = { name: 'chat', namespace: 'team-a', uid: 'uid-1', generation: 1 };
const base: WebUISpecInput = { ollama: { baseUrl: 'http://ollama.ollama.svc:11434' } };
const webui = (spec: WebUISpecInput): WebUI => ({
  apiVersion: 'webui.dev/v1alpha1',
  kind: 'WebUI',
  metadata: meta,
  spec: defaultSpec(spec),
});

describe('referencedSecrets', () => {
  it('is empty when the operator generates the key and SQLite is used', () => {
    expect(referencedSecrets(webui(base))).toEqual([]);
  });

  it('names the user key and the database URL Secrets with their keys and spec fields', () => {
    const w = webui({
      ...base,
      auth: { secretKeyRef: { name: 'my-key', key: 'k' } },
      database: { urlSecretRef: { name: 'db', key: 'url' } },
    });
    expect(referencedSecrets(w)).toEqual([
      { name: 'my-key', key: 'k', field: 'spec.auth.secretKeyRef' },
      { name: 'db', key: 'url', field: 'spec.database.urlSecretRef' },
    ]);
  });
});

describe('readsSecret', () => {
  it('matches only the referenced names, also on a cached WebUI whose spec lacks defaults', () => {
    // As stored by an older CRD: no spec.auth at all.
    const cached = { ...webui(base), spec: { ...base, database: { urlSecretRef: { name: 'db' } } } } as WebUI;
    expect(readsSecret(cached, 'db')).toBe(true);
    expect(readsSecret(cached, 'chat-secret-key')).toBe(false);
    expect(readsSecret(cached, 'other')).toBe(false);
  });
});
