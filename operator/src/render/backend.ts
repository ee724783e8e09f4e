/** The backend Deployment (`webui serve --mode api`) and its environment. */
import type { V1Deployment, V1EnvVar, V1PodSpec, V1Probe, V1SecurityContext } from '@kubernetes/client-node';
import { formatEnv, type SettingName, type SettingValue, settingByEnv, settings } from '#contract';
import { BACKEND_ENV, type LiteralSetting, type SecretSetting } from '../api/v1alpha1/backend-env.ts';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { configHash } from './config-hash.ts';
import { containerResources, heapCapEnv } from './memory.ts';
import { CONFIG_HASH_ANNOTATION, childMeta, labels, names, selectorLabels } from './meta.ts';
import { usesSqlite } from './pvc.ts';
import { apiViaBackend, backendTrustedProxies, servedPath } from './routing.ts';
import { secretKeyRef } from './secret-key.ts';

export const HTTP_PORT = 8080;
export const DATA_DIR = '/data';
/** The image's entrypoint. Locally it is `node webui/bin/webui.ts`. */
export const ENTRYPOINT = 'webui';
export const UID = 10001;

export interface RenderContext {
  /** Image used when spec.image is unset. */
  defaultImage: string;
  /**
   * Digests of the Secret values the pods read, keyed `<secret>/<key>`. They go
   * into the config hash so a rotated key or database URL rolls the pods.
   */
  secretDigests: Readonly<Record<string, string>>;
}

/**
 * The value of each literal row of BACKEND_ENV for this WebUI but the managed
 * list (which is computed from these); undefined leaves the variable out.
 */
function literalValues(w: WebUI): {
  [K in Exclude<LiteralSetting, 'managedSettings'>]: SettingValue<K> | undefined;
} {
  const spec = w.spec;
  const timeout = spec.ollama.timeoutSeconds;
  const token = spec.config.resetToken;
  const backendProxies = backendTrustedProxies(w);
  return {
    port: HTTP_PORT,
    dataDir: DATA_DIR,
    ollamaBaseUrl: spec.ollama.baseUrl,
    ollamaBaseUrls: ollamaUrls(w),
    clientTimeout: timeout === 0 ? null : timeout,
    enableSignup: spec.auth.enableSignup,
    defaultUserRole: spec.auth.defaultUserRole,
    resetConfigOnStart: token !== undefined ? true : undefined,
    configResetToken: token,
    // An empty list (trust no proxy) leaves the variable out: the server's default trusts only loopback.
    forwardedAllowIps: backendProxies.length > 0 ? backendProxies : undefined,
    // Requests from the Ingress keep the path users see; the forwarder's arrive without it.
    basePath: apiViaBackend(w) ? servedPath(w) || undefined : undefined,
  };
}

/** The Secret each secret row of BACKEND_ENV reads; undefined leaves the variable out. */
function secretRefs(w: WebUI): { [K in SecretSetting]: { name: string; key: string } | undefined } {
  const db = w.spec.database?.urlSecretRef;
  return { webuiSecretKey: secretKeyRef(w), databaseUrl: db ? { name: db.name, key: db.key } : undefined };
}

/**
 * Settings given in the spec are managed: the server takes them from env and
 * refuses API changes (409). That is every rendered row an admin could change
 * at runtime, and runtime settings set through spec.extraEnv (e.g.
 * JWT_EXPIRES_IN): otherwise a value an admin saved in the UI would outrank
 * the spec and a spec change would not take effect.
 */
export function managedSettings(w: WebUI): string[] {
  const given: Partial<Record<SettingName, unknown>> = { ...literalValues(w), ...secretRefs(w) };
  const out = BACKEND_ENV.filter(
    (r) => given[r.setting] !== undefined && settings[r.setting].persistedKey !== undefined,
  ).map((r) => settings[r.setting].env);
  for (const e of w.spec.extraEnv ?? []) {
    const k = settingByEnv(e.name);
    if (k !== undefined && settings[k].persistedKey !== undefined && !out.includes(e.name)) out.push(e.name);
  }
  return out;
}

export function ollamaUrls(w: WebUI): string[] {
  const o = w.spec.ollama;
  return o.baseUrls ?? (o.baseUrl !== undefined ? [o.baseUrl] : []);
}

/**
 * The backend environment: the rows of BACKEND_ENV in order (literal values
 * through the env contract's formatters, a `default` row only when
 * spec.extraEnv does not set it), then spec.extraEnv as given.
 */
export function backendEnv(w: WebUI): V1EnvVar[] {
  const literal = formatEnv({ ...literalValues(w), managedSettings: managedSettings(w) });
  const refs = secretRefs(w);
  const extra = new Set((w.spec.extraEnv ?? []).map((e) => e.name));
  const env: V1EnvVar[] = [];
  for (const row of BACKEND_ENV) {
    const name = settings[row.setting].env;
    if (row.from === 'default' && extra.has(name)) continue;
    if (row.from === 'secret') {
      const ref = refs[row.setting];
      if (ref) env.push({ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } });
    } else if (row.from !== 'reserved') {
      const value = literal[name];
      if (value !== undefined) env.push({ name, value });
    }
  }
  for (const e of w.spec.extraEnv ?? []) {
    env.push({
      name: e.name,
      ...(e.value !== undefined ? { value: e.value } : {}),
      ...(e.valueFrom !== undefined ? { valueFrom: e.valueFrom } : {}),
    } as V1EnvVar);
  }
  return env;
}

/** Secrets the backend reads, as `<secret>/<key>` (keys of RenderContext.secretDigests). */
export function backendSecretRefs(w: WebUI): string[] {
  const key = secretKeyRef(w);
  const out = [`${key.name}/${key.key}`];
  const db = w.spec.database?.urlSecretRef;
  if (db) out.push(`${db.name}/${db.key}`);
  return out;
}

export const containerSecurityContext: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: UID,
  runAsGroup: UID,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function httpProbe(path: string, periodSeconds: number, failureThreshold: number): V1Probe {
  return { httpGet: { path, port: 'http' }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

/** Pod-level settings shared by backend and frontend. */
export function podCommon(w: WebUI): Partial<V1PodSpec> {
  const s = w.spec;
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: UID,
      runAsGroup: UID,
      fsGroup: UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(s.imagePullSecrets ? { imagePullSecrets: s.imagePullSecrets.map((p) => ({ name: p.name })) } : {}),
    ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.tolerations ? { tolerations: s.tolerations } : {}),
    ...(s.affinity ? { affinity: s.affinity } : {}),
  };
}

export function imageOf(w: WebUI, ctx: RenderContext): string {
  return w.spec.image ?? ctx.defaultImage;
}

export function backendArgs(): string[] {
  return ['serve', '--mode', 'api'];
}

export function renderBackend(w: WebUI, ctx: RenderContext): V1Deployment {
  const resources = containerResources('backend', w.spec.backend.resources);
  const extra = new Set((w.spec.extraEnv ?? []).map((e) => e.name));
  const env = [...heapCapEnv(resources, extra), ...backendEnv(w)];
  const args = backendArgs();
  const secrets = Object.fromEntries(backendSecretRefs(w).map((r) => [r, ctx.secretDigests[r] ?? 'missing']));
  const hash = configHash({ command: [ENTRYPOINT], args, env, secrets });
  const sqlite = usesSqlite(w);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(w, names.backend(w), 'backend'),
    spec: {
      replicas: w.spec.backend.replicas,
      // Two pods must never open the same SQLite file at once.
      strategy: sqlite ? { type: 'Recreate' } : { type: 'RollingUpdate' },
      selector: { matchLabels: selectorLabels(w, 'backend') },
      template: {
        metadata: { labels: labels(w, 'backend'), annotations: { [CONFIG_HASH_ANNOTATION]: hash } },
        spec: {
          ...podCommon(w),
          containers: [
            {
              name: 'backend',
              image: imageOf(w, ctx),
              ...(w.spec.imagePullPolicy ? { imagePullPolicy: w.spec.imagePullPolicy } : {}),
              command: [ENTRYPOINT],
              args,
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              env,
              resources,
              startupProbe: httpProbe('/health', 2, 60),
              livenessProbe: httpProbe('/health', 10, 3),
              readinessProbe: httpProbe('/ready', 5, 3),
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: 'data', mountPath: DATA_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            sqlite
              ? { name: 'data', persistentVolumeClaim: { claimName: names.data(w) } }
              : { name: 'data', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}
