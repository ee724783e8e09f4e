import type { SettingName, SettingValue, UserRole } from '../contract/env.ts';

/** The signed-in user, as the auth middleware puts it on `ctx.state.user`. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
}

/** Koa `ctx.state` for every route. */
export interface AppState {
  user?: SessionUser;
  /** The token the user presented, with its expiry (unix seconds, or null for none). */
  session?: { token: string; expiresAt: number | null };
  /** Why a presented token was not accepted; the guards answer 401 with it. */
  authError?: string;
  /** Set by the request-id middleware. */
  requestId?: string;
}

/** Where a setting's effective value came from. */
export type SettingSource = 'default' | 'env' | 'saved' | 'managed';

/**
 * The runtime view of the settings in webui/src/contract/env.ts: defaults,
 * env, saved values and managed settings resolved with one precedence rule.
 */
export interface RuntimeConfig {
  get<K extends SettingName>(key: K): SettingValue<K>;
  source(key: SettingName): SettingSource;
  isManaged(key: SettingName): boolean;
  /** Persists a new value. Throws HttpError 409 when the deployment manages the setting. */
  set<K extends SettingName>(key: K, value: SettingValue<K>): Promise<void>;
}
