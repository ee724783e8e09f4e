/** The Secret holding the generated WEBUI_SECRET_KEY: generated once, then kept forever. */
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { childMeta, names } from './meta.ts';

export const SECRET_KEY_KEY = 'secret-key';

export function generateSecretKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether the operator manages the key (no spec.auth.secretKeyRef). */
export function managesSecretKey(w: WebUI): boolean {
  return w.spec.auth.secretKeyRef === undefined;
}

/**
 * The desired Secret, or undefined when the user brings their own key.
 * `existing` is the live Secret's base64 data: when it holds a key, that key is
 * kept; only a missing key is generated.
 */
export function renderSecretKeySecret(
  w: WebUI,
  existing: Record<string, string> | undefined,
  generate: () => string = generateSecretKey,
): V1Secret | undefined {
  if (!managesSecretKey(w)) return undefined;
  const kept = existing?.[SECRET_KEY_KEY];
  const value = kept && kept !== '' ? kept : Buffer.from(generate()).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(w, names.secretKey(w), 'secret-key'),
    type: 'Opaque',
    data: { [SECRET_KEY_KEY]: value },
  };
}

/** Where the backend reads WEBUI_SECRET_KEY from. */
export function secretKeyRef(w: WebUI): { name: string; key: string } {
  const ref = w.spec.auth.secretKeyRef;
  return ref ? { name: ref.name, key: ref.key } : { name: names.secretKey(w), key: SECRET_KEY_KEY };
}
