import type { SettingName, SettingValue } from '../contract/env.ts';
import type { SavedValue } from '../db/config-entries.ts';
import type { SettingSource } from './runtime-config.ts';

export interface ResolveInput<K extends SettingName> {
  default: SettingValue<K>;
  /** The parsed env value when the variable is present in the environment. */
  env?: { value: SettingValue<K> };
  saved?: SavedValue;
  managed: boolean;
  persistent: boolean;
}

export interface Resolved<K extends SettingName> {
  value: SettingValue<K>;
  source: SettingSource;
  /** Someone chose this value (env, admin or an automatic write), as opposed to the built-in default. */
  explicit: boolean;
}

/**
 * The one precedence rule, lowest to highest:
 *   default < saved by the system < env < saved by an admin.
 * Saved values count only with ENABLE_PERSISTENT_CONFIG=true (Open WebUI's
 * PersistentConfig, where a saved value beats env). A managed setting always
 * comes from env and ignores anything saved.
 */
export function resolveSetting<K extends SettingName>(input: ResolveInput<K>): Resolved<K> {
  if (input.managed) {
    return input.env
      ? { value: input.env.value, source: 'managed', explicit: true }
      : { value: input.default, source: 'managed', explicit: false };
  }
  const saved = input.persistent ? input.saved : undefined;
  if (saved?.origin === 'admin')
    return { value: saved.value as SettingValue<K>, source: 'saved', explicit: true };
  if (input.env) return { value: input.env.value, source: 'env', explicit: true };
  if (saved) return { value: saved.value as SettingValue<K>, source: 'saved', explicit: true };
  return { value: input.default, source: 'default', explicit: false };
}
