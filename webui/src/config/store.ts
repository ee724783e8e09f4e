import type { EntityManager } from '@mikro-orm/sql';
import {
  ollamaUrlsFromEnv,
  type ResolvedEnv,
  type Setting,
  type SettingName,
  type SettingValue,
  settingByEnv,
  settings,
} from '../contract/env.ts';
import {
  readConfigEntries,
  type SavedOrigin,
  type SavedValue,
  writeConfigEntry,
} from '../db/config-entries.ts';
import { type Resolved, resolveSetting } from './resolve.ts';
import { ConfigError, type RuntimeConfig, type SettingSource } from './runtime-config.ts';

export interface ConfigStoreOptions {
  env: ResolvedEnv;
  /** Settings whose variable is present in the environment. */
  explicit: ReadonlySet<SettingName>;
  /** Opens a unit of work on the database. */
  fork: () => EntityManager;
  /** How long saved values are trusted before re-reading them, so replicas agree. */
  ttlMs?: number;
  now?: () => number;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The runtime settings: defaults, env and saved values resolved by
 * resolveSetting. Saved values are cached for `ttlMs` and re-read from the
 * database afterwards (refreshIfStale runs per request), so several replicas
 * on one Postgres converge within that time.
 */
/** How stale saved settings may get on a shared (Postgres) database, where other replicas write them. */
export const CONFIG_TTL_MS = 1000;

export class ConfigStore implements RuntimeConfig {
  readonly #env: ResolvedEnv;
  readonly #explicit: ReadonlySet<SettingName>;
  readonly #managed: ReadonlySet<SettingName>;
  readonly #fork: () => EntityManager;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #saved = new Map<string, SavedValue>();
  /**
   * What explain() answered per setting since the saved values last changed: the proxy reads a dozen
   * settings per call (connections, timeouts, switches), and resolving each anew allocated on every one.
   * Cleared by load() and by every write. Callers must not change what they get (none do).
   */
  readonly #resolved = new Map<SettingName, Resolved<SettingName>>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(opts: ConfigStoreOptions) {
    this.#env = opts.env;
    this.#explicit = opts.explicit;
    this.#fork = opts.fork;
    this.#ttlMs = opts.ttlMs ?? CONFIG_TTL_MS;
    this.#now = opts.now ?? Date.now;
    const managed = new Set<SettingName>();
    for (const envName of opts.env.managedSettings) {
      const k = settingByEnv(envName);
      if (k !== undefined) managed.add(k);
    }
    this.#managed = managed;
  }

  get persistent(): boolean {
    return this.#env.enablePersistentConfig;
  }

  /** Re-reads saved values from the database. */
  async load(): Promise<void> {
    this.#saved = await readConfigEntries(this.#fork());
    this.#resolved.clear();
    this.#loadedAt = this.#now();
  }

  /** Reloads when the cache is older than the TTL; concurrent callers share one read. */
  /** Undefined while the saved settings are fresh: the caller need not wait a turn of the event loop. */
  refreshIfStale(): Promise<void> | undefined {
    if (this.#now() - this.#loadedAt < this.#ttlMs) return undefined;
    this.#loading ??= this.load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  explain<K extends SettingName>(key: K): Resolved<K> {
    const hit = this.#resolved.get(key);
    if (hit !== undefined) return hit as Resolved<K>;
    const resolved = this.#resolve(key);
    this.#resolved.set(key, resolved);
    return resolved;
  }

  #resolve<K extends SettingName>(key: K): Resolved<K> {
    const s = settings[key] as Setting<SettingValue<K>>;
    return resolveSetting<K>({
      default: s.default,
      env: this.#explicit.has(key) ? { value: this.#env[key] as SettingValue<K> } : undefined,
      saved: s.persistedKey === undefined ? undefined : this.#saved.get(s.persistedKey),
      managed: this.#managed.has(key),
      persistent: this.persistent,
    });
  }

  get<K extends SettingName>(key: K): SettingValue<K> {
    return this.explain(key).value;
  }

  source(key: SettingName): SettingSource {
    return this.explain(key).source;
  }

  isManaged(key: SettingName): boolean {
    return this.#managed.has(key);
  }

  /**
   * Every runtime-changeable setting with its value and source, for the
   * startup log: the answer to "why is my env change ignored?". Credentials
   * inside URLs are masked.
   */
  summary(): Record<string, { value: unknown; source: SettingSource; from?: string }> {
    const out: Record<string, { value: unknown; source: SettingSource; from?: string }> = {};
    for (const key of Object.keys(settings) as SettingName[]) {
      const s = settings[key] as Setting<unknown>;
      if (s.persistedKey === undefined || s.secret) continue;
      const r = this.explain(key);
      out[s.env] = { value: maskUrlCredentials(r.value), source: r.source };
    }
    // Show the list the proxy really uses (ollamaUrlsFromEnv): an empty OLLAMA_BASE_URLS means OLLAMA_BASE_URL.
    const list = this.explain('ollamaBaseUrls');
    const single = this.explain('ollamaBaseUrl');
    const urls = ollamaUrlsFromEnv({ ollamaBaseUrls: list.value, ollamaBaseUrl: single.value });
    if (urls !== list.value) {
      // ollamaUrlsFromEnv returns the list itself unless it fell back to the single URL.
      out[settings.ollamaBaseUrls.env] = {
        value: maskUrlCredentials(urls),
        source: single.source,
        from: settings.ollamaBaseUrl.env,
      };
    }
    return out;
  }

  /** Env names of the managed settings, for the admin config GET. */
  managedEnvNames(): string[] {
    return [...this.#managed].map((k) => settings[k].env);
  }

  /**
   * Throws the ConfigError set() would: `invalid` for a setting that cannot
   * change at runtime or an invalid value, `env-owned` for a managed setting
   * or while ENABLE_PERSISTENT_CONFIG=false. Lets a route check every field
   * before writing any.
   */
  assertWritable<K extends SettingName>(key: K, value: SettingValue<K>): void {
    const s = settings[key] as Setting<SettingValue<K>>;
    if (s.persistedKey === undefined) {
      throw new ConfigError(
        'invalid',
        `${s.env} cannot be changed at runtime; set the ${s.env} environment variable instead`,
      );
    }
    validate(s, value);
    if (this.#managed.has(key)) {
      throw new ConfigError(
        'env-owned',
        `${s.env} is managed by the deployment (e.g. the WebUI resource) and cannot be changed here`,
      );
    }
    if (!this.persistent) {
      throw new ConfigError(
        'env-owned',
        `${s.env} cannot be changed here because ${settings.enablePersistentConfig.env}=false makes the environment authoritative; change the ${s.env} environment variable instead`,
      );
    }
  }

  /**
   * An admin's change, saved to the database. Setting a managed value (or any
   * value while ENABLE_PERSISTENT_CONFIG=false) to what it already is
   * succeeds without writing, so clients that post a whole settings object
   * keep working; a real change is refused (ConfigError `env-owned`).
   */
  async set<K extends SettingName>(key: K, value: SettingValue<K>): Promise<void> {
    if ((this.#managed.has(key) || !this.persistent) && same(this.get(key), value)) return;
    this.assertWritable(key, value);
    await this.#write(settings[key].persistedKey as string, value, 'admin');
  }

  /** An automatic write (e.g. closing signup after the first account); env still outranks it. */
  async setSystem<K extends SettingName>(key: K, value: SettingValue<K>): Promise<void> {
    const s = settings[key] as Setting<SettingValue<K>>;
    if (s.persistedKey === undefined || this.#managed.has(key) || !this.persistent) return;
    // Never overwrite an admin's deliberate choice with an automatic one.
    if (this.#saved.get(s.persistedKey)?.origin === 'admin') return;
    await this.#write(s.persistedKey, value, 'system');
  }

  async #write(persistedKey: string, value: unknown, origin: SavedOrigin): Promise<void> {
    const saved = await writeConfigEntry(this.#fork(), persistedKey, value, origin);
    this.#saved.set(persistedKey, saved);
    this.#resolved.clear();
  }
}

function maskUrlCredentials(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskUrlCredentials);
  return typeof v === 'string' ? v.replace(/^(\w+:\/\/)[^/@\s]*@/, '$1***@') : v;
}

/** Values must survive the env codec's round trip, so a saved value is always one env could express. */
function validate<T>(s: Setting<T>, value: T): void {
  try {
    s.parse(s.format(value));
  } catch (e) {
    throw new ConfigError('invalid', `${s.env}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
