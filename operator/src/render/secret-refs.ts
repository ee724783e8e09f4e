/**
 * The Secrets a WebUI reads but does not own. Their values feed the backend's
 * config hash, so a changed value rolls the backend; the controller watches
 * their metadata to notice the change.
 */
import { defaultSpec, type WebUI } from '../api/v1alpha1/webui.ts';
import { managesSecretKey, secretKeyRef } from './secret-key.ts';

export interface SecretRef {
  name: string;
  key: string;
  /** The spec field that names it, for error messages. */
  field: string;
}

/** The field of a user's session key: its value must be long enough (MIN_SECRET_KEY_BYTES). */
export const SECRET_KEY_FIELD = 'spec.auth.secretKeyRef';

export function referencedSecrets(w: WebUI): SecretRef[] {
  const refs: SecretRef[] = [];
  if (!managesSecretKey(w)) refs.push({ ...secretKeyRef(w), field: SECRET_KEY_FIELD });
  const db = w.spec.database?.urlSecretRef;
  if (db) refs.push({ name: db.name, key: db.key, field: 'spec.database.urlSecretRef' });
  return refs;
}

/**
 * Whether a change to Secret `name` (in the WebUI's namespace) concerns this
 * WebUI. Takes the WebUI as cached, whose spec may predate a default.
 */
export function readsSecret(w: WebUI, name: string): boolean {
  return referencedSecrets({ ...w, spec: defaultSpec(w.spec) }).some((r) => r.name === name);
}
