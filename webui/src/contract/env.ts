/**
 * The env contract between the WebUI server and the operator: every variable's
 * name, type, default and parsing lives here and nowhere else.
 *
 * The server parses its environment with `readEnv`; the operator renders a
 * pod's environment with `formatEnv`, using the same names and formats, so the
 * two cannot disagree. Names follow Open WebUI where it has one.
 */

import { parseTrustedProxies } from './ip.ts';

export { isLoopbackUrl, parseTrustedProxies } from './ip.ts';

/**
 * Read by Node itself, not by the server: the operator puts the V8 heap cap
 * (`--max-old-space-size`) here, matched to the container's memory limit. The
 * image's launcher (webui/bin/webui-dist) sets its own V8 flags on the command
 * line; Node applies these on top.
 */
export const NODE_OPTIONS_ENV = 'NODE_OPTIONS';

/** One line that names the bad setting and says how to fix it. */
export class EnvError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'EnvError';
    this.variable = variable;
  }
}

export const USER_ROLES = ['pending', 'user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SERVE_MODES = ['all', 'api', 'frontend'] as const;
export type ServeMode = (typeof SERVE_MODES)[number];

interface Codec<T> {
  /** Parses a raw, present value. Throws a plain Error whose message says what is expected. */
  parse(raw: string): T;
  /** The inverse of parse, used by the operator to render env values. */
  format(value: T): string;
}

export interface Setting<T> extends Codec<T> {
  readonly env: string;
  readonly description: string;
  readonly default: T;
  /** Key in the persisted config store when admins may change it at runtime (Open WebUI's PersistentConfig). */
  readonly persistedKey?: string;
  /** Never log the value. */
  readonly secret?: boolean;
}

// --- codecs --------------------------------------------------------------------

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

const bool: Codec<boolean> = {
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new Error(`expected true or false, got "${raw}"`);
  },
  format: (v) => (v ? 'true' : 'false'),
};

const text: Codec<string> = { parse: (raw) => raw, format: (v) => v };

const optionalText: Codec<string | undefined> = {
  parse: (raw) => (raw.trim() === '' ? undefined : raw),
  format: (v) => v ?? '',
};

function integer(min: number, max: number): Codec<number> {
  return {
    parse(raw) {
      const v = raw.trim();
      if (!/^\d+$/.test(v)) throw new Error(`expected a whole number from ${min} to ${max}, got "${raw}"`);
      const n = Number(v);
      if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}, got ${n}`);
      return n;
    },
    format: (v) => String(v),
  };
}

/**
 * Seconds, where an empty value or 0 means "no limit" (null). Open WebUI falls
 * back to 300 on anything it cannot parse; we refuse instead.
 */
const secondsOrUnlimited: Codec<number | null> = {
  parse(raw) {
    const v = raw.trim();
    if (v === '') return null;
    if (!/^\d+(\.\d+)?$/.test(v)) {
      throw new Error(`expected a number of seconds (e.g. 300), or empty or 0 for no limit, got "${raw}"`);
    }
    // Any spelling of zero ("0", "00", "0.0") is "no limit", never an instant timeout.
    const n = Number(v);
    return n === 0 ? null : n;
  },
  format: (v) => (v === null ? '0' : String(v)),
};

function oneOf<T extends string>(values: readonly T[]): Codec<T> {
  return {
    parse(raw) {
      const v = raw.trim() as T;
      if (!values.includes(v)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
      return v;
    },
    format: (v) => v,
  };
}

/**
 * The shortest WEBUI_SECRET_KEY the server starts with. HS256 keys shorter than
 * the hash (32 bytes) are weaker than the signature and open to offline
 * guessing from any one token. The operator checks a key a WebUI references
 * against it too, so a short one is reported instead of crash-looping.
 */
export const MIN_SECRET_KEY_BYTES = 32;

/** Open WebUI's duration grammar, also the pattern /openapi.json gives for JWT_EXPIRES_IN. */
export const DURATION_PATTERN = /^(-1|0|([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+)$/;

/**
 * Open WebUI's duration grammar (`4w`, `1h30m`); `-1` or `0` is null, which
 * Open WebUI reads as no expiry and sessions read as their longest lifetime (365 days).
 */
export function parseDurationMs(raw: string): number | null {
  const v = raw.trim();
  if (!DURATION_PATTERN.test(v)) {
    throw new Error(`expected a duration such as 4w, 12h or 1h30m (-1: the longest, 365 days), got "${raw}"`);
  }
  if (v === '-1' || v === '0') return null;
  const unit: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g))
    total += Number(m[1]) * (unit[m[2] as string] ?? 0);
  return total;
}

const duration: Codec<string> = {
  parse(raw) {
    parseDurationMs(raw);
    return raw.trim();
  },
  format: (v) => v,
};

function httpUrl(raw: string): string {
  const v = raw.trim().replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`expected an http(s) URL such as http://ollama:11434, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`expected an http(s) URL such as http://ollama:11434, got "${raw}"`);
  }
  return v;
}

const url: Codec<string> = { parse: httpUrl, format: (v) => v };
const optionalUrl: Codec<string | undefined> = {
  parse: (raw) => (raw.trim() === '' ? undefined : httpUrl(raw)),
  format: (v) => v ?? '',
};

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)+\/?$/;

/**
 * A path prefix the app is served under ("/chat"), normalized: no trailing
 * slash, and "" for the root. Shared by the server (WEBUI_BASE_PATH) and the
 * operator (spec.ingress.path).
 */
export function normalizeBasePath(raw: string): string {
  const v = raw.trim();
  if (v === '' || v === '/') return '';
  if (!BASE_PATH.test(v) || /(^|\/)\.{1,2}(\/|$)/.test(v)) {
    throw new Error(`expected a path such as /chat (letters, digits, . _ ~ - between slashes), got "${raw}"`);
  }
  return v.replace(/\/$/, '');
}

const basePath: Codec<string> = { parse: normalizeBasePath, format: (v) => v };

/** `;`-separated http(s) URLs, as in Open WebUI's OLLAMA_BASE_URLS. */
const urlList: Codec<string[]> = {
  parse: (raw) =>
    raw
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(httpUrl),
  format: (v) => v.join(';'),
};

/** `;`-separated origins for CORS; `*` allowed. */
const originList: Codec<string[]> = {
  parse(raw) {
    const parts = raw
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const p of parts) {
      if (p === '*') continue;
      let u: URL;
      try {
        u = new URL(p);
      } catch {
        throw new Error(`expected ;-separated origins such as http://localhost:5173, or *, got "${p}"`);
      }
      if (u.origin !== p.replace(/\/$/, ''))
        throw new Error(`"${p}" is not an origin (scheme://host[:port])`);
    }
    return parts.map((p) => p.replace(/\/$/, ''));
  },
  format: (v) => v.join(';'),
};

/** Comma-separated IP addresses, CIDR ranges or `*`, as in uvicorn's FORWARDED_ALLOW_IPS. */
const ipList: Codec<string[]> = {
  parse(raw) {
    const parts = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    parseTrustedProxies(parts);
    return parts;
  },
  format: (v) => v.join(','),
};

/** Comma-separated env names, for WEBUI_MANAGED_SETTINGS. */
const nameList: Codec<string[]> = {
  parse: (raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  format: (v) => v.join(','),
};

/** Per-connection Ollama settings keyed by connection index ("0", "1", ...), as in Open WebUI. */
export interface OllamaApiConfig {
  /** false: the connection is skipped (default true). */
  enable?: boolean;
  /** Sent upstream as `Authorization: Bearer <key>`. */
  key?: string;
  /** Models of this connection are listed as "<prefix_id>.<model>". */
  prefix_id?: string;
  /** Allow-list of models this connection contributes (empty: all). */
  model_ids?: string[];
  /** Attached to each of its models in the list. */
  tags?: unknown[];
  connection_type?: string;
  [extra: string]: unknown;
}

/** JSON object `{"0": {"enable": true, "key": "..."}}` for OLLAMA_API_CONFIGS. */
const ollamaApiConfigs: Codec<Record<string, OllamaApiConfig>> = {
  parse(raw) {
    const v = raw.trim();
    if (v === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new Error('expected a JSON object such as {"0": {"key": "..."}}');
    }
    return checkOllamaApiConfigs(parsed);
  },
  format: (v) => JSON.stringify(v),
};

/** Validates the OLLAMA_API_CONFIGS shape; throws an Error naming the bad entry. */
export function checkOllamaApiConfigs(value: unknown): Record<string, OllamaApiConfig> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('expected a JSON object keyed by connection index, such as {"0": {"key": "..."}}');
  }
  for (const [k, c] of Object.entries(value)) {
    if (!/^\d+$/.test(k)) throw new Error(`key "${k}" is not a connection index (0, 1, ...)`);
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new Error(`entry "${k}" must be an object`);
    const entry = c as Record<string, unknown>;
    if (entry.enable !== undefined && typeof entry.enable !== 'boolean')
      throw new Error(`entry "${k}": enable must be true or false`);
    if (entry.key !== undefined && typeof entry.key !== 'string')
      throw new Error(`entry "${k}": key must be a string`);
    if (entry.prefix_id !== undefined && typeof entry.prefix_id !== 'string')
      throw new Error(`entry "${k}": prefix_id must be a string`);
    if (
      entry.model_ids !== undefined &&
      (!Array.isArray(entry.model_ids) || entry.model_ids.some((m) => typeof m !== 'string'))
    )
      throw new Error(`entry "${k}": model_ids must be a list of model names`);
    if (entry.tags !== undefined && !Array.isArray(entry.tags))
      throw new Error(`entry "${k}": tags must be a list`);
    if (entry.connection_type !== undefined && typeof entry.connection_type !== 'string')
      throw new Error(`entry "${k}": connection_type must be a string`);
  }
  return value as Record<string, OllamaApiConfig>;
}

function setting<T>(def: Omit<Setting<T>, 'parse' | 'format'>, codec: Codec<T>): Setting<T> {
  return { ...def, parse: codec.parse, format: codec.format };
}

// --- the settings ---------------------------------------------------------------

export const settings = {
  // Serving
  port: setting({ env: 'PORT', description: 'TCP port to listen on.', default: 8080 }, integer(0, 65535)),
  host: setting({ env: 'HOST', description: 'Address to listen on.', default: '0.0.0.0' }, text),
  dataDir: setting(
    {
      env: 'DATA_DIR',
      description: 'Directory for the SQLite database and the generated secret key.',
      default: './data',
    },
    text,
  ),
  databaseUrl: setting<string | undefined>(
    {
      env: 'DATABASE_URL',
      description: 'postgres://user:pass@host:5432/db to use Postgres; unset for SQLite under DATA_DIR.',
      default: undefined,
      secret: true,
    },
    {
      parse(raw) {
        const v = raw.trim();
        if (v === '') return undefined;
        if (!/^(postgres|postgresql|sqlite):\/\//.test(v)) {
          throw new Error(
            'expected postgres://user:password@host:5432/dbname (or sqlite:///path/to/webui.db)',
          );
        }
        return v;
      },
      format: (v) => v ?? '',
    },
  ),
  frontendBuildDir: setting<string | undefined>(
    {
      env: 'FRONTEND_BUILD_DIR',
      description: "Directory of the built frontend; defaults to the package's own build output.",
      default: undefined,
    },
    optionalText,
  ),
  backendUrl: setting<string | undefined>(
    {
      env: 'BACKEND_URL',
      description: 'In --mode frontend, where /api, /ollama and /health are forwarded.',
      default: undefined,
    },
    optionalUrl,
  ),
  basePath: setting(
    {
      env: 'WEBUI_BASE_PATH',
      description:
        'Path prefix the app is served under when a reverse proxy or Ingress routes a sub-path (e.g. /chat) without rewriting it. Requests under it are served as if at /, and /chat redirects to /chat/. Empty: the root.',
      default: '',
    },
    basePath,
  ),
  forwardedAllowIps: setting<string[]>(
    {
      env: 'FORWARDED_ALLOW_IPS',
      description:
        'Comma-separated proxy addresses or CIDR ranges (or * for any peer) whose X-Forwarded-* headers are trusted. The client address (sign-in rate limit) is the rightmost X-Forwarded-For entry that is not a trusted proxy; with * only the entry the peer appended. Set it when the server runs behind an ingress or the frontend-mode forwarder.',
      default: ['127.0.0.1'],
    },
    ipList,
  ),
  corsAllowOrigin: setting<string[]>(
    {
      env: 'CORS_ALLOW_ORIGIN',
      description:
        'Unset: same-origin only. A ;-separated list of origins enables CORS with credentials; * allows any origin without credentials.',
      default: [],
    },
    originList,
  ),
  logLevel: setting<LogLevel>(
    { env: 'LOG_LEVEL', description: 'Log level.', default: 'info' },
    oneOf(LOG_LEVELS),
  ),
  deploymentId: setting<string | undefined>(
    {
      env: 'DEPLOYMENT_ID',
      description: 'Reported by /api/version as deployment_id; defaults to the host name.',
      default: undefined,
    },
    optionalText,
  ),
  webuiName: setting({ env: 'WEBUI_NAME', description: 'Name shown in the UI.', default: 'WebUI' }, text),

  // Auth
  webuiSecretKey: setting<string | undefined>(
    {
      env: 'WEBUI_SECRET_KEY',
      description:
        'Key that signs session tokens (HS256). Unset: one is generated once and kept under DATA_DIR.',
      default: undefined,
      secret: true,
    },
    optionalText,
  ),
  jwtExpiresIn: setting(
    {
      env: 'JWT_EXPIRES_IN',
      description:
        'Session lifetime, e.g. 4w, 12h or 1h30m; -1 or 0 for the longest, 365 days, which also caps longer ones (every token expires).',
      default: '4w',
      persistedKey: 'auth.jwt_expiry',
    },
    duration,
  ),
  enableSignup: setting(
    {
      env: 'ENABLE_SIGNUP',
      description:
        'Allow public sign-up. Signup is always open while no user exists and closes when the first account is created.',
      default: true,
      persistedKey: 'ui.enable_signup',
    },
    bool,
  ),
  enableLoginForm: setting(
    {
      env: 'ENABLE_LOGIN_FORM',
      description: 'Show the email/password form.',
      default: true,
      persistedKey: 'ui.enable_login_form',
    },
    bool,
  ),
  defaultUserRole: setting<UserRole>(
    {
      env: 'DEFAULT_USER_ROLE',
      description: 'Role of accounts created after the first (which is always admin).',
      default: 'pending',
      persistedKey: 'ui.default_user_role',
    },
    oneOf(USER_ROLES),
  ),
  showAdminDetails: setting(
    {
      env: 'SHOW_ADMIN_DETAILS',
      description: "Show the admin's name and email to pending users.",
      default: true,
      persistedKey: 'auth.admin.show',
    },
    bool,
  ),
  webuiUrl: setting(
    {
      env: 'WEBUI_URL',
      description: 'Public URL of this WebUI, used in links.',
      default: 'http://localhost:8080',
      persistedKey: 'webui.url',
    },
    url,
  ),

  // Ollama
  ollamaBaseUrl: setting(
    {
      env: 'OLLAMA_BASE_URL',
      description: 'Ollama server URL. Used when OLLAMA_BASE_URLS is unset.',
      default: 'http://localhost:11434',
    },
    url,
  ),
  ollamaBaseUrls: setting<string[]>(
    {
      env: 'OLLAMA_BASE_URLS',
      description: ';-separated Ollama server URLs. Models are merged across them.',
      default: [],
      persistedKey: 'ollama.base_urls',
    },
    urlList,
  ),
  enableOllamaApi: setting(
    {
      env: 'ENABLE_OLLAMA_API',
      description: 'Enable the /ollama proxy.',
      default: true,
      persistedKey: 'ollama.enable',
    },
    bool,
  ),
  ollamaApiConfigs: setting<Record<string, OllamaApiConfig>>(
    {
      env: 'OLLAMA_API_CONFIGS',
      description:
        'JSON per-connection settings keyed by index in OLLAMA_BASE_URLS: {"0": {"enable": true, "key": "..."}}.',
      default: {},
      persistedKey: 'ollama.api_configs',
      secret: true,
    },
    ollamaApiConfigs,
  ),
  clientTimeout: setting<number | null>(
    {
      env: 'AIOHTTP_CLIENT_TIMEOUT',
      description: 'Seconds one whole Ollama response may take, streaming included. Empty or 0: no limit.',
      default: 300,
    },
    secondsOrUnlimited,
  ),
  modelListTimeout: setting<number | null>(
    {
      env: 'AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST',
      description: 'Seconds a model-list request (/api/tags, /api/version) to one Ollama may take.',
      default: 10,
    },
    secondsOrUnlimited,
  ),
  streamIdleTimeout: setting<number | null>(
    {
      env: 'AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT',
      description: 'Seconds a streaming response may stay silent between chunks. Empty or 0: no limit.',
      default: null,
    },
    secondsOrUnlimited,
  ),
  connectTimeout: setting<number | null>(
    {
      env: 'AIOHTTP_CLIENT_CONNECT_TIMEOUT',
      description: 'Seconds to wait for a TCP connection to Ollama.',
      default: 5,
    },
    secondsOrUnlimited,
  ),

  ollamaProxyMaxBodyMib: setting(
    {
      env: 'OLLAMA_PROXY_MAX_BODY_MIB',
      description:
        'Largest request body the /ollama proxy accepts, in MiB (1 MiB = 1,048,576 bytes; chat bodies carry base64 images); more is 413. Each signed-in user may also have at most twice this, and at least 16 MiB, of request bodies being read at once; more is 429.',
      default: 8,
    },
    integer(1, 1024),
  ),

  // Persisted config
  enablePersistentConfig: setting(
    {
      env: 'ENABLE_PERSISTENT_CONFIG',
      description: 'Saved admin settings win over env (Open WebUI precedence). False: env always wins.',
      default: true,
    },
    bool,
  ),
  resetConfigOnStart: setting(
    {
      env: 'RESET_CONFIG_ON_START',
      description:
        'Delete all persisted settings at startup, before any is loaded (users and chats are kept). One-shot with CONFIG_RESET_TOKEN.',
      default: false,
    },
    bool,
  ),
  configResetToken: setting<string | undefined>(
    {
      env: 'CONFIG_RESET_TOKEN',
      description:
        'Makes RESET_CONFIG_ON_START one-shot: the reset runs only if this token was never applied.',
      default: undefined,
    },
    optionalText,
  ),
  managedSettings: setting<string[]>(
    {
      env: 'WEBUI_MANAGED_SETTINGS',
      description:
        'Comma-separated env names whose values the deployment manages: they always come from env and the API refuses to change them (409).',
      default: [],
    },
    nameList,
  ),
} as const;

export type Settings = typeof settings;
export type SettingName = keyof Settings;
export type SettingValue<K extends SettingName> = Settings[K]['default'];
export type ResolvedEnv = { [K in SettingName]: SettingValue<K> };

/** Settings an admin may change at runtime, keyed by env name. */
export const persistedSettings: readonly SettingName[] = (Object.keys(settings) as SettingName[]).filter(
  (k) => settings[k].persistedKey !== undefined,
);

export function settingByEnv(env: string): SettingName | undefined {
  return (Object.keys(settings) as SettingName[]).find((k) => settings[k].env === env);
}

/** Which env names were given explicitly (present, even if empty) in this environment. */
export function explicitlySet(env: Readonly<Record<string, string | undefined>>): Set<SettingName> {
  const out = new Set<SettingName>();
  for (const k of Object.keys(settings) as SettingName[]) if (env[settings[k].env] !== undefined) out.add(k);
  return out;
}

/**
 * Parses every setting from an environment. Unset variables take their
 * defaults; a value that does not parse throws an EnvError naming it.
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>): ResolvedEnv {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings) as [SettingName, Setting<unknown>][]) {
    const raw = env[s.env];
    if (raw === undefined) {
      out[name] = s.default;
      continue;
    }
    try {
      out[name] = s.parse(raw);
    } catch (e) {
      throw new EnvError(s.env, e instanceof Error ? e.message : String(e));
    }
  }
  const resolved = out as ResolvedEnv;
  for (const envName of resolved.managedSettings) {
    const k = settingByEnv(envName);
    if (k === undefined || settings[k].persistedKey === undefined) {
      throw new EnvError(
        settings.managedSettings.env,
        `"${envName}" is not a runtime-changeable setting; use one of ${persistedSettings.map((p) => settings[p].env).join(', ')}`,
      );
    }
  }
  return resolved;
}

/** The Ollama upstreams in effect from env: OLLAMA_BASE_URLS if set, else OLLAMA_BASE_URL. */
export function ollamaUrlsFromEnv(resolved: Pick<ResolvedEnv, 'ollamaBaseUrls' | 'ollamaBaseUrl'>): string[] {
  return resolved.ollamaBaseUrls.length > 0 ? resolved.ollamaBaseUrls : [resolved.ollamaBaseUrl];
}

/**
 * Renders typed values into env strings with the contract's names. The
 * operator uses this for pod specs; the server would parse them back to the
 * same values.
 */
export function formatEnv(values: { [K in SettingName]?: SettingValue<K> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values) as [SettingName, unknown][]) {
    if (value === undefined) continue;
    const s = settings[name] as Setting<unknown>;
    out[s.env] = s.format(value);
  }
  return out;
}
