/**
 * The runtime view of the settings in webui/src/contract/env.ts that the
 * server's routes use: defaults, env, saved values and managed settings
 * resolved with one precedence rule (resolve.ts). ConfigStore implements it.
 */
import type { SettingName, SettingValue } from '../contract/env.ts';

/** Where a setting's effective value came from. */
/** Where a setting's value comes from, weakest first. */
export const SETTING_SOURCES = ['default', 'env', 'saved', 'managed'] as const;
export type SettingSource = (typeof SETTING_SOURCES)[number];

/**
 * Why a change was refused. The config layer knows nothing of HTTP; the
 * server's error middleware answers 400 for `invalid` and 409 for `env-owned`.
 * - `invalid`: the value does not parse, or the setting cannot change at runtime;
 * - `env-owned`: the environment decides the setting (the deployment manages
 *   it, or ENABLE_PERSISTENT_CONFIG=false).
 */
export type ConfigErrorKind = 'invalid' | 'env-owned';

/** A refused change; the message names the variable and says what to do instead. */
export class ConfigError extends Error {
  readonly kind: ConfigErrorKind;
  constructor(kind: ConfigErrorKind, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.kind = kind;
  }
}

export interface RuntimeConfig {
  get<K extends SettingName>(key: K): SettingValue<K>;
  source(key: SettingName): SettingSource;
  isManaged(key: SettingName): boolean;
  /** Persists a new value. Throws ConfigError `env-owned` when the deployment manages the setting. */
  set<K extends SettingName>(key: K, value: SettingValue<K>): Promise<void>;
}
