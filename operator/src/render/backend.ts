/** The backend Deployment (`webui serve --mode api`) and its environment. */
import type { V1Deployment, V1EnvVar, V1PodSpec, V1Probe, V1SecurityContext } from '@kubernetes/client-node';
import { formatEnv, settingByEnv, settings } from '../../../webui/src/contract/env.ts';
import type { WebUI } from '../api/v1alpha1/webui.ts';
import { configHash } from './config-hash.ts';
import { CONFIG_HASH_ANNOTATION, childMeta, labels, names, selectorLabels } from './meta.ts';
import { usesSqlite } from './pvc.ts';
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
 * Settings given in the spec are managed: the server takes them from env and
 * refuses API changes (409). That includes runtime settings set through
 * spec.extraEnv (e.g. JWT_EXPIRES_IN): otherwise a value an admin saved in the
 * UI would outrank the spec and a spec change would not take effect.
 */
export function managedSettings(w: WebUI): string[] {
  const out: string[] = [settings.ollamaBaseUrls.env];
  if (w.spec.auth.enableSignup !== undefined) out.push(settings.enableSignup.env);
  if (w.spec.auth.defaultUserRole !== undefined) out.push(settings.defaultUserRole.env);
  for (const e of w.spec.extraEnv ?? []) {
    const k = settingByEnv(e.name);
    if (k !== undefined && settings[k].persistedKey !== undefined && !out.includes(e.name)) out.push(e.name);
  }
  return out;
}

/**
 * The backend is reached only through the frontend forwarder (and, in front
 * of it, an ingress or load balancer), from pod IPs the operator cannot know
 * in advance. Trusting any peer's last X-Forwarded-For entry gives the sign-in
 * rate limit the address the frontend saw instead of lumping every user under
 * the frontend pod's IP (one attacker would lock everyone out), and honours
 * X-Forwarded-Proto for the Secure cookie. spec.extraEnv may narrow it.
 */
export const BACKEND_FORWARDED_ALLOW_IPS = ['*'];

export function ollamaUrls(w: WebUI): string[] {
  const o = w.spec.ollama;
  return o.baseUrls ?? (o.baseUrl !== undefined ? [o.baseUrl] : []);
}

/** The backend environment, in a stable order. Literal values go through the env contract's formatters. */
export function backendEnv(w: WebUI): V1EnvVar[] {
  const spec = w.spec;
  const urls = ollamaUrls(w);
  const literal = formatEnv({
    port: HTTP_PORT,
    dataDir: DATA_DIR,
    ...(spec.ollama.baseUrl !== undefined ? { ollamaBaseUrl: spec.ollama.baseUrl } : {}),
    ollamaBaseUrls: urls,
    ...(spec.ollama.timeoutSeconds !== undefined
      ? { clientTimeout: spec.ollama.timeoutSeconds === 0 ? null : spec.ollama.timeoutSeconds }
      : {}),
    ...(spec.auth.enableSignup !== undefined ? { enableSignup: spec.auth.enableSignup } : {}),
    ...(spec.auth.defaultUserRole !== undefined ? { defaultUserRole: spec.auth.defaultUserRole } : {}),
    ...(spec.config.resetToken !== undefined
      ? { resetConfigOnStart: true, configResetToken: spec.config.resetToken }
      : {}),
    managedSettings: managedSettings(w),
    ...(spec.extraEnv?.some((e) => e.name === settings.forwardedAllowIps.env)
      ? {}
      : { forwardedAllowIps: BACKEND_FORWARDED_ALLOW_IPS }),
  });
  const env: V1EnvVar[] = Object.entries(literal).map(([name, value]) => ({ name, value }));
  const key = secretKeyRef(w);
  env.push({
    name: settings.webuiSecretKey.env,
    valueFrom: { secretKeyRef: { name: key.name, key: key.key } },
  });
  const db = spec.database?.urlSecretRef;
  if (db)
    env.push({ name: settings.databaseUrl.env, valueFrom: { secretKeyRef: { name: db.name, key: db.key } } });
  for (const e of spec.extraEnv ?? []) {
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

type Quantities = Record<string, string | number>;

/** CRD quantities are int-or-string; the pod spec wants strings. */
export function resourceRequirements(r: { requests?: Quantities; limits?: Quantities } | undefined) {
  if (!r) return undefined;
  const str = (q: Quantities | undefined) =>
    q ? Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])) : undefined;
  const requests = str(r.requests);
  const limits = str(r.limits);
  if (!requests && !limits) return undefined;
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

export function imageOf(w: WebUI, ctx: RenderContext): string {
  return w.spec.image ?? ctx.defaultImage;
}

export function backendArgs(): string[] {
  return ['serve', '--mode', 'api'];
}

export function renderBackend(w: WebUI, ctx: RenderContext): V1Deployment {
  const env = backendEnv(w);
  const args = backendArgs();
  const secrets = Object.fromEntries(backendSecretRefs(w).map((r) => [r, ctx.secretDigests[r] ?? 'missing']));
  const hash = configHash({ command: [ENTRYPOINT], args, env, secrets });
  const sqlite = usesSqlite(w);
  const resources = resourceRequirements(w.spec.backend.resources);
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
              ...(resources ? { resources } : {}),
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
