import { describe, expect, it } from 'vitest';
import { ConfigStore } from '../../config/store.ts';
import { explicitlySet, readEnv } from '../../contract/env.ts';
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
});
