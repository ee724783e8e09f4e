/**
 * Test scaffolding for the /ollama router (used by *.test.ts only): a tiny
 * Koa app with the real error handler, a stand-in for the auth middleware
 * that takes the role from a test header, and an in-memory RuntimeConfig.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { type Logger, pino } from 'pino';
import type { RuntimeConfig, SettingSource } from '../../config/runtime-config.ts';
import {
  type SettingName,
  type SettingValue,
  settings,
  USER_ROLES,
  type UserRole,
} from '../../contract/env.ts';
import { conflict } from '../http-error.ts';
import { errorHandler } from '../middleware/error-handler.ts';
import { RouteRegistry } from '../openapi/registry.ts';
import type { AppState } from '../types.ts';
import type { Whereabouts } from './loopback-hint.ts';
import { createOllamaRouter } from './router.ts';

type Values = { [K in SettingName]?: SettingValue<K> };

/** A RuntimeConfig over a plain map. Managed settings refuse `set` with 409, like the real store. */
export class MemoryConfig implements RuntimeConfig {
  readonly values: Values;
  readonly managed: Set<SettingName>;
  readonly writes: { key: SettingName; value: unknown }[] = [];
  constructor(values: Values = {}, managed: SettingName[] = []) {
    this.values = { ...values };
    this.managed = new Set(managed);
  }
  get<K extends SettingName>(key: K): SettingValue<K> {
    return (key in this.values ? this.values[key] : settings[key].default) as SettingValue<K>;
  }
  source(key: SettingName): SettingSource {
    return this.managed.has(key) ? 'managed' : key in this.values ? 'saved' : 'default';
  }
  isManaged(key: SettingName): boolean {
    return this.managed.has(key);
  }
  async set<K extends SettingName>(key: K, value: SettingValue<K>): Promise<void> {
    if (this.managed.has(key)) {
      throw conflict(`${settings[key].env} is managed by the deployment and cannot be changed here`);
    }
    this.writes.push({ key, value });
    (this.values as Record<string, unknown>)[key] = value;
  }
}

/** A pino logger whose lines are kept in `lines` (parsed JSON). */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

export interface ProxyApp {
  url: string;
  config: MemoryConfig;
  close(): Promise<void>;
}

/** Header a test sets to act as a signed-in user of that role; absent means anonymous. */
export const ROLE_HEADER = 'x-test-role';

/** `where` defaults to a plain machine, as the tests run. */
export async function startProxyApp(
  config: MemoryConfig,
  logger?: Logger,
  where: Whereabouts = { place: 'host', port: undefined },
): Promise<ProxyApp> {
  const log = logger ?? pino({ level: 'silent' });
  const app = new Koa<AppState>();
  // Client disconnects mid-stream make Koa report "Premature close"; the tests cause them on purpose.
  app.silent = true;
  app.use(errorHandler(log));
  app.use(async (ctx, next) => {
    const role = ctx.get(ROLE_HEADER);
    if ((USER_ROLES as readonly string[]).includes(role)) {
      ctx.state.user = { id: `id-${role}`, email: `${role}@example.com`, name: role, role: role as UserRole };
    }
    await next();
  });
  const router = createOllamaRouter({ config, logger: log, registry: new RouteRegistry(), where });
  app.use(router.routes());
  app.use(router.allowedMethods());
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Parses an NDJSON body into its records. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
