/**
 * Operator settings from flags or env (flags win). A bad value throws a
 * SettingError whose message is one line naming the setting and the fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '#contract';

/**
 * The operator's HTTP port: not 8080, which `make run` (the WebUI) takes, so
 * both can run on one machine while developing.
 */
export const DEFAULT_HTTP_PORT = 8081;

export class SettingError extends Error {
  override name = 'SettingError';
}

export interface OperatorSettings {
  /** Empty: all namespaces. */
  namespaces: string[];
  defaultImage: string;
  logLevel: LogLevel;
  httpPort: number;
  leaderElection: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  concurrency: number;
  /** How often every WebUI is re-checked (Ollama reachability; a safety net for missed events). */
  resyncSeconds: number;
  requestTimeoutSeconds: number;
  /** Client-side rate limit of API requests, watches included (a token bucket): sustained and burst. */
  kubeApiQps: number;
  kubeApiBurst: number;
  /** A ConfigMap holding one WebUI manifest to apply (operator/src/seed/); undefined: none. */
  webuiSeed?: { namespace: string; name: string };
}

/** ghcr.io/webui-operator/webui:<version>, from package.json (the one source for images). */
export function packagedDefaultImage(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    images?: { registry: string; webui: string };
  };
  // No guessed fallback: an image name that silently differs from the published one would not pull.
  if (!pkg.images?.registry || !pkg.images.webui || !pkg.version)
    throw new Error(`${join(root, 'package.json')} lacks version or images.registry/images.webui`);
  return `${pkg.images.registry}/${pkg.images.webui}:${pkg.version}`;
}

const SETTINGS = {
  namespaces: { flag: 'namespaces', env: 'WATCH_NAMESPACES' },
  defaultImage: { flag: 'default-image', env: 'DEFAULT_WEBUI_IMAGE' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL' },
  httpPort: { flag: 'http-port', env: 'HTTP_PORT' },
  leaderElection: { flag: 'leader-election', env: 'LEADER_ELECTION' },
  leaderElectionNamespace: { flag: 'leader-election-namespace', env: 'LEADER_ELECTION_NAMESPACE' },
  leaderElectionId: { flag: 'leader-election-id', env: 'LEADER_ELECTION_ID' },
  concurrency: { flag: 'concurrency', env: 'RECONCILE_CONCURRENCY' },
  resyncSeconds: { flag: 'resync-seconds', env: 'RESYNC_SECONDS' },
  requestTimeoutSeconds: { flag: 'request-timeout-seconds', env: 'REQUEST_TIMEOUT_SECONDS' },
  kubeApiQps: { flag: 'kube-api-qps', env: 'KUBE_API_QPS' },
  kubeApiBurst: { flag: 'kube-api-burst', env: 'KUBE_API_BURST' },
  webuiSeed: { flag: 'webui-seed-configmap', env: 'WEBUI_SEED_CONFIGMAP' },
} as const;

export const USAGE = `Usage: webui-operator [flags]   (each flag also reads the env variable shown)
  --namespaces a,b            WATCH_NAMESPACES           namespaces to watch; empty or "*" = all (default all)
  --default-image IMG         DEFAULT_WEBUI_IMAGE        image for WebUIs without spec.image
  --log-level LEVEL           LOG_LEVEL                  ${LOG_LEVELS.join('|')} (default info)
  --http-port N               HTTP_PORT                  /metrics, /healthz, /readyz (default 8081)
  --leader-election BOOL      LEADER_ELECTION            use a Lease so only one replica works (default false)
  --leader-election-namespace LEADER_ELECTION_NAMESPACE  (default POD_NAMESPACE, else "default")
  --leader-election-id NAME   LEADER_ELECTION_ID         Lease name (default webui-operator)
  --concurrency N             RECONCILE_CONCURRENCY      WebUIs reconciled in parallel (default 4)
  --resync-seconds N          RESYNC_SECONDS             re-check every WebUI this often (default 60)
  --request-timeout-seconds N REQUEST_TIMEOUT_SECONDS    API request timeout (default 30)
  --kube-api-qps N            KUBE_API_QPS               API requests per second, watches included (default 20)
  --kube-api-burst N          KUBE_API_BURST             API requests at once after a quiet spell (default 30)
  --webui-seed-configmap NAME WEBUI_SEED_CONFIGMAP       apply the WebUI in this [namespace/]ConfigMap (default none)
  KUBECONFIG selects the cluster; in a pod the service account is used.`;

type Name = keyof typeof SETTINGS;

function label(n: Name): string {
  return `--${SETTINGS[n].flag} (${SETTINGS[n].env})`;
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain, what ConfigMap names must be. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function int(n: Name, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new SettingError(`${label(n)}: expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function parseSettings(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: { defaultImage: string },
): OperatorSettings | 'help' {
  let flags: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' as const }]),
    ) as Record<string, { type: 'string' }>;
    flags = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (e) {
    throw new SettingError(`${(e as Error).message.split('\n')[0]}; run with --help for the flags`);
  }
  if (flags.help) return 'help';
  const get = (n: Name): string | undefined => {
    const f = flags[SETTINGS[n].flag];
    return typeof f === 'string' ? f : env[SETTINGS[n].env];
  };

  const nsRaw = (get('namespaces') ?? '').trim();
  const namespaces =
    nsRaw === '' || nsRaw === '*' || nsRaw === 'all'
      ? []
      : nsRaw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  for (const ns of namespaces) {
    if (!NAMESPACE_NAME.test(ns) || ns.length > 63) {
      throw new SettingError(
        `${label('namespaces')}: "${ns}" is not a namespace name; give a comma list such as team-a,team-b`,
      );
    }
  }

  const logLevel = (get('logLevel') ?? 'info').trim() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new SettingError(
      `${label('logLevel')}: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`,
    );
  }

  const leRaw = (get('leaderElection') ?? 'false').trim().toLowerCase();
  if (!['true', 'false', '1', '0'].includes(leRaw)) {
    throw new SettingError(`${label('leaderElection')}: expected true or false, got "${leRaw}"`);
  }

  const image = (get('defaultImage') ?? defaults.defaultImage).trim();
  if (image === '' || /\s/.test(image)) {
    throw new SettingError(
      `${label('defaultImage')}: expected an image reference such as ghcr.io/webui-operator/webui:0.1.0`,
    );
  }

  const webuiSeed = parseSeed(get('webuiSeed'), env.POD_NAMESPACE, namespaces);

  return {
    namespaces,
    defaultImage: image,
    logLevel,
    httpPort: int('httpPort', get('httpPort') ?? String(DEFAULT_HTTP_PORT), 0, 65535),
    leaderElection: leRaw === 'true' || leRaw === '1',
    leaderElectionNamespace: get('leaderElectionNamespace') ?? env.POD_NAMESPACE ?? 'default',
    leaderElectionId: get('leaderElectionId') ?? 'webui-operator',
    concurrency: int('concurrency', get('concurrency') ?? '4', 1, 64),
    resyncSeconds: int('resyncSeconds', get('resyncSeconds') ?? '60', 5, 86400),
    requestTimeoutSeconds: int('requestTimeoutSeconds', get('requestTimeoutSeconds') ?? '30', 1, 600),
    kubeApiQps: int('kubeApiQps', get('kubeApiQps') ?? '20', 1, 10_000),
    kubeApiBurst: int('kubeApiBurst', get('kubeApiBurst') ?? '30', 1, 100_000),
    ...(webuiSeed ? { webuiSeed } : {}),
  };
}

/**
 * `[namespace/]name` of the seed ConfigMap. Its WebUI is made in the seed's namespace, which must
 * be watched: otherwise the operator would create a WebUI it then never reconciles.
 */
function parseSeed(
  raw: string | undefined,
  podNamespace: string | undefined,
  watched: readonly string[],
): { namespace: string; name: string } | undefined {
  const value = (raw ?? '').trim();
  if (value === '') return undefined;
  const parts = value.split('/');
  const [namespace, name] = parts.length === 2 ? parts : [podNamespace, parts[0]];
  if (parts.length > 2 || !name || !OBJECT_NAME.test(name) || name.length > 253) {
    throw new SettingError(
      `${label('webuiSeed')}: expected a ConfigMap name or namespace/name such as webui-system/webui-operator-webui-chat, got "${value}"`,
    );
  }
  if (namespace === undefined || namespace === '') {
    throw new SettingError(
      `${label('webuiSeed')}: "${value}" names no namespace and POD_NAMESPACE is not set; give namespace/name`,
    );
  }
  if (!NAMESPACE_NAME.test(namespace) || namespace.length > 63) {
    throw new SettingError(`${label('webuiSeed')}: "${namespace}" is not a namespace name`);
  }
  if (watched.length > 0 && !watched.includes(namespace)) {
    throw new SettingError(
      `${label('webuiSeed')}: the seed's namespace "${namespace}" is not watched (${label('namespaces')} is ${watched.join(',')}), so its WebUI would never be reconciled; watch it too`,
    );
  }
  return { namespace, name };
}
