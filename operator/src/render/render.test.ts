import type { V1Deployment, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readEnv, settings } from '#contract';
import { fieldDocs, toOpenApi } from '../api/schema.ts';
import { BACKEND_ENV, OPERATOR_MANAGED_ENV } from '../api/v1alpha1/backend-env.ts';
import { type WebUI, type WebUISpecInput, webuiSpecSchema } from '../api/v1alpha1/webui.ts';
import { backendEnv, type RenderContext, renderBackend } from './backend.ts';
import { renderFrontend } from './frontend.ts';
import { renderAll } from './index.ts';
import { CONFIG_HASH_ANNOTATION } from './meta.ts';
import { publicUrl, renderFrontendService, renderIngress } from './network.ts';
import { renderDataClaim } from './pvc.ts';
import { renderSecretKeySecret, SECRET_KEY_KEY } from './secret-key.ts';
import { base, container, ctx, envMap, webui } from './testing/fixtures.ts';

function hashOf(d: V1Deployment): string | undefined {
  return d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

describe('backend Deployment', () => {
  it('runs `webui serve --mode api` with probes, a non-root read-only container and writable /data and /tmp', () => {
    const d = renderBackend(webui(base), ctx);
    const c = container(d);
    expect(d.metadata?.name).toBe('chat-backend');
    expect(c.command).toEqual(['webui']);
    expect(c.args).toEqual(['serve', '--mode', 'api']);
    expect(c.image).toBe(ctx.defaultImage);
    expect(c.livenessProbe?.httpGet?.path).toBe('/health');
    expect(c.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(d.spec?.template.spec?.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
    expect(c.volumeMounts?.map((m) => m.mountPath)).toEqual(['/data', '/tmp']);
    expect(d.spec?.template.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName).toBe('chat-data');
    expect(d.spec?.strategy?.type).toBe('Recreate');
  });

  it('renders env the WebUI server parses back to the spec values (env contract round trip)', () => {
    const w = webui({
      ollama: { baseUrls: ['http://a:11434', 'https://b.example/ollama'], timeoutSeconds: 900 },
      auth: { enableSignup: false, defaultUserRole: 'user' },
    });
    const env = backendEnv(w);
    const literal = envMap(env);
    const parsed = readEnv({ ...literal, WEBUI_SECRET_KEY: 'k' });
    expect(parsed.ollamaBaseUrls).toEqual(['http://a:11434', 'https://b.example/ollama']);
    expect(parsed.clientTimeout).toBe(900);
    expect(parsed.enableSignup).toBe(false);
    expect(parsed.defaultUserRole).toBe('user');
    expect(parsed.dataDir).toBe('/data');
    expect(parsed.managedSettings).toEqual(['OLLAMA_BASE_URLS', 'ENABLE_SIGNUP', 'DEFAULT_USER_ROLE']);
    expect(env.find((e) => e.name === 'WEBUI_SECRET_KEY')?.valueFrom?.secretKeyRef).toEqual({
      name: 'chat-secret-key',
      key: SECRET_KEY_KEY,
    });
    expect(literal.RESET_CONFIG_ON_START).toBeUndefined();
  });

  it('manages only the settings the spec sets', () => {
    const literal = envMap(backendEnv(webui(base)));
    expect(literal.WEBUI_MANAGED_SETTINGS).toBe('OLLAMA_BASE_URLS');
    expect(literal.ENABLE_SIGNUP).toBeUndefined();
    expect(literal.DEFAULT_USER_ROLE).toBeUndefined();
    expect(literal.AIOHTTP_CLIENT_TIMEOUT).toBeUndefined();
    expect(literal.OLLAMA_BASE_URL).toBe('http://ollama.ollama.svc:11434');
    expect(literal.OLLAMA_BASE_URLS).toBe('http://ollama.ollama.svc:11434');
  });

  it('also manages runtime settings set through extraEnv, so an admin-saved value cannot outrank the spec', () => {
    const env = backendEnv(
      webui({
        ...base,
        extraEnv: [
          { name: 'JWT_EXPIRES_IN', value: '12h' },
          { name: 'WEBUI_URL', valueFrom: { secretKeyRef: { name: 'u', key: 'url' } } },
          { name: 'LOG_FORMAT', value: 'json' },
          { name: 'CORS_ALLOW_ORIGIN', value: 'https://a.example' },
        ],
      }),
    );
    const literal = envMap(env);
    expect(literal.WEBUI_MANAGED_SETTINGS).toBe('OLLAMA_BASE_URLS,JWT_EXPIRES_IN,WEBUI_URL');
    // The server accepts the list (it refuses names that are not runtime settings).
    expect(readEnv({ ...literal, WEBUI_URL: 'https://chat.example.com' }).managedSettings).toEqual([
      'OLLAMA_BASE_URLS',
      'JWT_EXPIRES_IN',
      'WEBUI_URL',
    ]);
  });

  it('trusts X-Forwarded-* from any peer (the frontend forwarder) on the backend, unless extraEnv narrows it', () => {
    const literal = envMap(backendEnv(webui(base)));
    expect(readEnv({ FORWARDED_ALLOW_IPS: literal.FORWARDED_ALLOW_IPS }).forwardedAllowIps).toEqual(['*']);
    const narrowed = backendEnv(
      webui({ ...base, extraEnv: [{ name: 'FORWARDED_ALLOW_IPS', value: '10.0.0.7' }] }),
    );
    expect(narrowed.filter((e) => e.name === 'FORWARDED_ALLOW_IPS')).toEqual([
      { name: 'FORWARDED_ALLOW_IPS', value: '10.0.0.7' },
    ]);
    // The frontend gets spec.network.trustedProxies instead (network.test.ts).
    const frontend = container(renderFrontend(webui(base), ctx)).env ?? [];
    expect(envMap(frontend).FORWARDED_ALLOW_IPS).not.toBe('*');
  });

  it('maps timeoutSeconds 0 to "no limit"', () => {
    const literal = envMap(backendEnv(webui({ ollama: { baseUrl: 'http://o:1', timeoutSeconds: 0 } })));
    expect(readEnv({ AIOHTTP_CLIENT_TIMEOUT: literal.AIOHTTP_CLIENT_TIMEOUT }).clientTimeout).toBeNull();
  });

  it('takes DATABASE_URL from its Secret, uses RollingUpdate and an emptyDir with an external database', () => {
    const d = renderBackend(
      webui({ ...base, backend: { replicas: 3 }, database: { urlSecretRef: { name: 'pg' } } }),
      ctx,
    );
    const env = container(d).env ?? [];
    expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'pg',
      key: 'url',
    });
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.strategy?.type).toBe('RollingUpdate');
    expect(d.spec?.template.spec?.volumes?.[0]).toEqual({ name: 'data', emptyDir: {} });
  });

  it('sets RESET_CONFIG_ON_START and CONFIG_RESET_TOKEN for a reset token', () => {
    const literal = envMap(backendEnv(webui({ ...base, config: { resetToken: 'r1' } })));
    expect(literal.RESET_CONFIG_ON_START).toBe('true');
    expect(literal.CONFIG_RESET_TOKEN).toBe('r1');
  });

  it('appends extraEnv and applies placement to the pod', () => {
    const d = renderBackend(
      webui({
        ...base,
        extraEnv: [{ name: 'JWT_EXPIRES_IN', value: '12h' }],
        nodeSelector: { disk: 'ssd' },
        tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
        backend: { resources: { requests: { cpu: '100m', memory: 256 } } },
      }),
      ctx,
    );
    expect(envMap(container(d).env ?? []).JWT_EXPIRES_IN).toBe('12h');
    expect(d.spec?.template.spec?.nodeSelector).toEqual({ disk: 'ssd' });
    expect(d.spec?.template.spec?.tolerations).toHaveLength(1);
    // The default memory limit stays: the spec set no limit.
    expect(container(d).resources).toEqual({
      requests: { cpu: '100m', memory: '256' },
      limits: { memory: '512Mi' },
    });
  });

  it('owns its children with a controller reference', () => {
    const d = renderBackend(webui(base), ctx);
    expect(d.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'webui.dev/v1alpha1',
        kind: 'WebUI',
        name: 'chat',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(d.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('webui-operator');
  });
});

describe('config hash', () => {
  const h = (spec: WebUISpecInput, meta: Partial<WebUI['metadata']> = {}, c: RenderContext = ctx) =>
    hashOf(renderBackend(webui(spec, meta), c));

  it('changes when the configuration the backend sees changes', () => {
    const start = h(base);
    expect(h({ ...base, auth: { enableSignup: false } })).not.toBe(start);
    expect(h({ ollama: { baseUrl: 'http://other:11434' } })).not.toBe(start);
    expect(h({ ...base, config: { resetToken: 'x' } })).not.toBe(start);
    expect(h(base, {}, { ...ctx, secretDigests: { 'chat-secret-key/secret-key': 'abc' } })).not.toBe(start);
  });

  it('does not change for edits the pods do not see', () => {
    const start = h(base);
    expect(h(base, { labels: { team: 'x' }, generation: 7 })).toBe(start);
    expect(h({ ...base, backend: { replicas: 0 } })).toBe(start);
    expect(h({ ...base, service: { port: 8081 } })).toBe(start);
    expect(h({ ...base, frontend: { replicas: 4 } })).toBe(start);
  });

  it('does not roll the frontend for backend-only configuration', () => {
    const a = hashOf(renderFrontend(webui(base), ctx));
    const b = hashOf(renderFrontend(webui({ ...base, auth: { enableSignup: false } }), ctx));
    expect(a).toBe(b);
  });
});

describe('frontend Deployment', () => {
  it('runs `webui serve --mode frontend` with BACKEND_URL pointing at the backend Service', () => {
    const d = renderFrontend(webui(base), ctx);
    const c = container(d);
    expect(d.metadata?.name).toBe('chat-frontend');
    expect(c.args).toEqual(['serve', '--mode', 'frontend']);
    expect(envMap(c.env ?? []).BACKEND_URL).toBe('http://chat-backend.team-a.svc:8080');
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    // Probes that do not depend on the backend.
    expect(c.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(c.livenessProbe?.tcpSocket?.port).toBe('http');
  });
});

describe('secret key Secret', () => {
  it('generates a key once and keeps an existing one', () => {
    const w = webui(base);
    const fresh = renderSecretKeySecret(w, undefined, () => 'generated');
    expect(Buffer.from(fresh?.data?.[SECRET_KEY_KEY] ?? '', 'base64').toString()).toBe('generated');
    const kept = renderSecretKeySecret(w, { [SECRET_KEY_KEY]: 'ZXhpc3Rpbmc=' }, () => {
      throw new Error('must not regenerate');
    });
    expect(kept?.data?.[SECRET_KEY_KEY]).toBe('ZXhpc3Rpbmc=');
  });

  it('is not rendered when the user brings a key', () => {
    expect(
      renderSecretKeySecret(webui({ ...base, auth: { secretKeyRef: { name: 'mine' } } }), undefined),
    ).toBe(undefined);
  });
});

describe('data claim', () => {
  it('has no ownerReference by default, so it outlives the WebUI', () => {
    const pvc = renderDataClaim(webui(base));
    expect(pvc?.metadata?.name).toBe('chat-data');
    expect(pvc?.metadata?.ownerReferences).toBeUndefined();
    expect(pvc?.spec?.resources?.requests?.storage).toBe('5Gi');
  });

  it('is owned (garbage-collected) with retainOnDelete: false', () => {
    const pvc = renderDataClaim(
      webui({ ...base, persistence: { retainOnDelete: false, storageClassName: 'fast' } }),
    );
    expect(pvc?.metadata?.ownerReferences?.[0]?.uid).toBe('uid-1');
    expect(pvc?.spec?.storageClassName).toBe('fast');
  });

  it('is not rendered with an external database', () => {
    expect(renderDataClaim(webui({ ...base, database: { urlSecretRef: { name: 'pg' } } }))).toBeUndefined();
  });
});

describe('network', () => {
  it('exposes the frontend Service and reports its DNS URL', () => {
    const w = webui({ ...base, service: { type: 'LoadBalancer', port: 8081, annotations: { a: 'b' } } });
    const svc = renderFrontendService(w);
    expect(svc.spec?.type).toBe('LoadBalancer');
    expect(svc.spec?.ports?.[0]?.port).toBe(8081);
    expect(svc.metadata?.annotations).toEqual({ a: 'b' });
    expect(publicUrl(w)).toBe('http://chat-frontend.team-a.svc:8081/');
    expect(renderIngress(w)).toBeUndefined();
  });

  it('renders an Ingress with TLS and reports its https URL', () => {
    const w = webui({
      ...base,
      ingress: { host: 'chat.example.com', tlsSecretName: 'tls', className: 'nginx' },
    });
    const ing = renderIngress(w);
    expect(ing?.spec?.rules?.[0]?.host).toBe('chat.example.com');
    expect(ing?.spec?.tls?.[0]?.secretName).toBe('tls');
    expect(ing?.spec?.ingressClassName).toBe('nginx');
    // The last path, after the API's (network.test.ts): everything else goes to the frontend.
    expect(ing?.spec?.rules?.[0]?.http?.paths.at(-1)?.backend.service?.name).toBe('chat-frontend');
    expect(publicUrl(w)).toBe('https://chat.example.com/');
    // At the root the frontend gets no WEBUI_BASE_PATH (so existing frontends keep their hash).
    expect(ing?.spec?.rules?.[0]?.http?.paths.at(-1)?.path).toBe('/');
    expect(envMap(container(renderFrontend(w, ctx)).env ?? [])).not.toHaveProperty('WEBUI_BASE_PATH');
  });

  it('serves a sub-path Ingress from the frontend under WEBUI_BASE_PATH and reports the URL with a slash', () => {
    const w = webui({ ...base, ingress: { host: 'apps.example.com', path: '/team/chat/' } });
    expect(renderIngress(w)?.spec?.rules?.[0]?.http?.paths.at(-1)).toMatchObject({
      path: '/team/chat',
      pathType: 'Prefix',
    });
    const env = envMap(container(renderFrontend(w, ctx)).env ?? []);
    expect(env.WEBUI_BASE_PATH).toBe('/team/chat');
    // The server reads back what the operator wrote.
    expect(readEnv({ WEBUI_BASE_PATH: env.WEBUI_BASE_PATH }).basePath).toBe('/team/chat');
    expect(publicUrl(w)).toBe('http://apps.example.com/team/chat/');
    // The path is the Ingress's: without one (disabled), the frontend serves at the root.
    const off = webui({ ...base, ingress: { enabled: false, host: 'apps.example.com', path: '/team/chat' } });
    expect(envMap(container(renderFrontend(off, ctx)).env ?? [])).not.toHaveProperty('WEBUI_BASE_PATH');
  });
});

describe('renderAll', () => {
  it('renders every child, dependencies first', () => {
    const out = renderAll(webui(base), { ...ctx, generateSecretKey: () => 'k' });
    expect(out.apply.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Secret/chat-secret-key',
      'PersistentVolumeClaim/chat-data',
      'Service/chat-backend',
      'Service/chat-frontend',
      'NetworkPolicy/chat-backend',
      'Deployment/chat-backend',
      'Deployment/chat-frontend',
      'PodDisruptionBudget/chat-backend',
      'PodDisruptionBudget/chat-frontend',
    ]);
  });
});

describe('disruption budgets', () => {
  it('let a drain evict at most one pod of each component, selected like its Deployment', () => {
    const w = webui({ ...base, frontend: { replicas: 3 } });
    const out = renderAll(w, ctx);
    for (const component of ['backend', 'frontend'] as const) {
      const pdb = out.apply.find(
        (o) => o.kind === 'PodDisruptionBudget' && o.metadata?.name === `chat-${component}`,
      ) as V1PodDisruptionBudget;
      const deployment = out.apply.find(
        (o) => o.kind === 'Deployment' && o.metadata?.name === `chat-${component}`,
      ) as V1Deployment;
      expect(pdb.spec?.maxUnavailable).toBe(1);
      expect(pdb.spec?.minAvailable).toBeUndefined();
      expect(pdb.spec?.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
      expect(pdb.spec?.selector?.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
      expect(pdb.metadata?.ownerReferences?.[0]?.uid).toBe('uid-1');
    }
  });
});

// Binds the env table (api/v1alpha1/backend-env.ts) to what the operator really does: the names
// the CRD's CEL rule refuses in spec.extraEnv are exactly what backendEnv renders from typed
// fields, plus the reserved ones.
describe('the backend env table', () => {
  /** Every typed field that renders a variable set, once with baseUrl and once with baseUrls. */
  const full: WebUISpecInput[] = [
    { ollama: { baseUrl: 'http://o:11434' } },
    {
      ollama: { baseUrls: ['http://a:11434', 'http://b:11434'], timeoutSeconds: 60 },
      auth: { enableSignup: false, defaultUserRole: 'user', secretKeyRef: { name: 'k' } },
      config: { resetToken: 'r1' },
      database: { urlSecretRef: { name: 'pg' } },
    },
    {
      ollama: { baseUrl: 'http://o:11434', timeoutSeconds: 0 },
      auth: { enableSignup: true, defaultUserRole: 'admin' },
      config: { resetToken: 'r2' },
      ingress: { host: 'chat.example.com', path: '/chat' },
    },
  ];

  const namesOf = (from: string) =>
    BACKEND_ENV.filter((r) => r.from === from).map((r) => settings[r.setting].env);

  /** The names in the CRD's rule on spec.extraEnv, parsed back out of the CEL text. */
  function celRefusedNames(): string[] {
    const extraEnv = (toOpenApi(webuiSpecSchema).properties as Record<string, Record<string, unknown>>)
      .extraEnv as { 'x-kubernetes-validations': { rule: string }[] };
    const rule = extraEnv['x-kubernetes-validations'][0]?.rule ?? '';
    const list = /e\.name in \[(.*)\]/.exec(rule)?.[1] ?? '';
    return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
  }

  it('the CEL rule on spec.extraEnv refuses exactly what backendEnv renders from typed fields, and the reserved names', () => {
    const rendered = new Set<string>();
    for (const spec of full) for (const e of backendEnv(webui(spec))) rendered.add(e.name);
    const defaults = namesOf('default');
    const fromTypedFields = [...rendered].filter((n) => !defaults.includes(n));
    expect(new Set(celRefusedNames())).toEqual(new Set([...fromTypedFields, ...namesOf('reserved')]));
    expect(celRefusedNames()).toEqual(OPERATOR_MANAGED_ENV);
  });

  it('never renders a reserved variable, and renders a default one only when extraEnv does not set it', () => {
    for (const spec of full) {
      const names = backendEnv(webui(spec)).map((e) => e.name);
      for (const n of namesOf('reserved')) expect(names).not.toContain(n);
      for (const name of namesOf('default')) {
        const env = backendEnv(webui({ ...spec, extraEnv: [{ name, value: 'x' }] }));
        expect(env.filter((e) => e.name === name)).toEqual([{ name, value: 'x' }]);
      }
    }
  });

  it('renders the variables in the order of the table, then extraEnv', () => {
    const env = backendEnv(webui({ ...(full[1] as WebUISpecInput), extraEnv: [{ name: 'A', value: '1' }] }));
    const order = BACKEND_ENV.map((r) => settings[r.setting].env);
    const positions = env.slice(0, -1).map((e) => order.indexOf(e.name));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(positions).not.toContain(-1);
    expect(env.at(-1)).toEqual({ name: 'A', value: '1' });
  });

  it('names only spec fields that exist', () => {
    const fields = new Set(fieldDocs(webuiSpecSchema, 'spec').map((d) => d.path));
    for (const r of BACKEND_ENV) if ('field' in r) expect(fields, r.field).toContain(`spec.${r.field}`);
  });
});
