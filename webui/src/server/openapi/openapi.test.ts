import { describe, expect, it } from 'vitest';
import { ConfigStore } from '../../config/store.ts';
import { explicitlySet, readEnv } from '../../contract/env.ts';
import { rereadsFor } from '../../db/dialect.ts';
import { createApp } from '../app.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { SessionUserCache } from '../auth/session-cache.ts';
import { createLogger } from '../logger.ts';
import type { Services } from '../services.ts';
import { loadAppParts } from '../start.ts';
import { toOpenApiPath } from './registry.ts';

const noDatabase = (): never => {
  throw new Error('no database in this test');
};

async function build() {
  const env = readEnv({});
  const logger = createLogger('silent');
  const config = new ConfigStore({
    env,
    explicit: explicitlySet({}),
    fork: () => {
      throw new Error('no database in this test');
    },
  });
  const svc: Services = {
    env,
    mode: 'all',
    version: '0.0.0-test',
    deploymentId: 'test',
    logger,
    config,
    lifecycle: { ready: false },
    frontend: undefined,
    secretKey: 'k',
    em: noDatabase,
    database: () => undefined,
    signinLimits: {
      byEmail: new RateLimiter({ scope: 'email', limit: 1, windowMs: 1, em: noDatabase }),
      byClient: new RateLimiter({ scope: 'client', limit: 1, windowMs: 1, em: noDatabase }),
    },
    sessionUsers: new SessionUserCache(),
    rereads: rereadsFor('sqlite', { config: 1000, session: 1000 }),
  };
  return createApp(svc, await loadAppParts('all', env, config, logger));
}

describe('/openapi.json', () => {
  it('lists exactly the routes the Koa routers serve', async () => {
    const { registry, routers } = await build();
    const served = new Set<string>();
    for (const r of routers) {
      for (const layer of r.stack) {
        for (const m of layer.methods) {
          if (m === 'HEAD' || m === 'OPTIONS') continue;
          served.add(`${m.toLowerCase()} ${toOpenApiPath(String(layer.path))}`);
        }
      }
    }
    const doc = registry.document({ title: 't', version: 'v' }) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths))
      for (const m of Object.keys(ops)) documented.add(`${m} ${p}`);

    expect(served.size).toBeGreaterThan(20);
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });

  it('is OpenAPI 3.1 and carries the request body schemas that validate requests', async () => {
    const { registry } = await build();
    const doc = registry.document({ title: 't', version: 'v' }) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const signup = doc.paths['/api/v1/auths/signup']?.post?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(signup?.properties ?? {})).toEqual(
      expect.arrayContaining(['name', 'email', 'password']),
    );
    const adminConfig =
      doc.paths['/api/v1/auths/admin/config']?.post?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(adminConfig?.properties ?? {})).toEqual(
      expect.arrayContaining([
        'ENABLE_SIGNUP',
        'DEFAULT_USER_ROLE',
        'JWT_EXPIRES_IN',
        'WEBUI_URL',
        'SHOW_ADMIN_DETAILS',
      ]),
    );
  });

  it('says what every route answers: a 200 with content, and the Error schema otherwise', async () => {
    const { registry } = await build();
    const doc = registry.document({ title: 't', version: 'v' }) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    const missing: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        if (Object.keys(op.responses['200']?.content ?? {}).length === 0) missing.push(`${m} ${p}`);
        expect(op.responses.default?.content).toHaveProperty('application/json');
      }
    }
    expect(missing).toEqual([]);
    const chat = doc.paths['/ollama/api/chat']?.post?.responses['200']?.content ?? {};
    expect(Object.keys(chat).sort()).toEqual(['application/json', 'application/x-ndjson']);
    const openai = doc.paths['/ollama/v1/chat/completions']?.post?.responses['200']?.content ?? {};
    expect(Object.keys(openai).sort()).toEqual(['application/json', 'text/event-stream']);
    const me = doc.paths['/api/v1/auths']?.get?.responses['200']?.content?.['application/json'] as {
      schema: { required?: string[] };
    };
    expect(me.schema.required).toEqual(
      expect.arrayContaining(['token', 'id', 'email', 'role', 'permissions']),
    );
  });

  it('states the rules the server checks, so valid-looking requests are valid', async () => {
    const { registry } = await build();
    const doc = registry.document({ title: 't', version: 'v' }) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const body = (path: string, method = 'post') => {
      const requestBody = doc.paths[path]?.[method]?.requestBody as
        | { content: Record<string, { schema: Record<string, unknown> }> }
        | undefined;
      return requestBody?.content['application/json']?.schema ?? {};
    };
    const property = (schema: Record<string, unknown>, name: string) =>
      (schema.properties as Record<string, { pattern?: string }>)[name];

    // url_idx is digits, as connectionAt demands.
    const params = doc.paths['/ollama/api/tags/{url_idx}']?.get?.parameters as {
      schema: { pattern: string };
    }[];
    const digits = new RegExp(params[0]?.schema.pattern ?? '');
    expect(
      ['0', '12'].every((v) => digits.test(v)) && !['x', '-1', '1.5', ''].some((v) => digits.test(v)),
    ).toBe(true);

    // The email rule is a pattern, the same one the server runs.
    const email = new RegExp(property(body('/api/v1/auths/signup'), 'email')?.pattern ?? '');
    expect(
      email.test('a@b.co') && email.test('admin@localhost') && !email.test('a@b') && !email.test('a b@c.d'),
    ).toBe(true);

    // model or name: one of them is required.
    const show = body('/ollama/api/show') as { anyOf?: { required?: string[] }[] };
    expect(show.anyOf?.map((v) => v.required)).toEqual([['model'], ['name']]);

    // A push name is namespaced.
    const push = body('/ollama/api/push') as {
      anyOf?: { properties: Record<string, { pattern?: string }> }[];
    };
    const pushName = new RegExp(push.anyOf?.[0]?.properties.model?.pattern ?? '^$');
    expect(pushName.test('me/tiny:latest') && !pushName.test('tiny')).toBe(true);

    // Admin settings: JWT_EXPIRES_IN and WEBUI_URL carry their grammar.
    const admin = body('/api/v1/auths/admin/config');
    const duration = new RegExp(property(admin, 'JWT_EXPIRES_IN')?.pattern ?? '');
    expect(['4w', '1h30m', '-1', '0'].every((v) => duration.test(v)) && !duration.test('soon')).toBe(true);
    const url = new RegExp(property(admin, 'WEBUI_URL')?.pattern ?? '');
    expect(
      ['https://chat.example.com', 'http://localhost:8080/webui', 'http://10.0.0.1'].every((v) =>
        url.test(v),
      ) && !['ftp://x', 'https://', 'http://4294967296'].some((v) => url.test(v)),
    ).toBe(true);
  });
});
