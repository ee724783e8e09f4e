import type { EntityManager } from '@mikro-orm/sql';
import type { ConfigStore } from '../config/store.ts';
import type { ResolvedEnv, ServeMode } from '../contract/env.ts';
import type { Rereads } from '../db/dialect.ts';
import type { Database } from '../db/orm.ts';
import type { RateLimiter } from './auth/rate-limit.ts';
import type { SessionUserCache } from './auth/session-cache.ts';
import type { Logger } from './logger.ts';
import type { FrontendStatus } from './static/frontend.ts';

/** Startup progress; /ready and the API gate read it. */
export interface Lifecycle {
  ready: boolean;
  /** Set when startup failed; /ready reports it. */
  failure?: string;
  /** Set on SIGTERM: /ready turns 503 so traffic drains away, while requests still on their way are served. */
  stopping?: boolean;
}

/**
 * What route handlers need, created once at startup. The database arrives
 * after the server is listening (migrations run in the background), hence
 * the accessor.
 */
export interface Services {
  env: ResolvedEnv;
  mode: ServeMode;
  version: string;
  deploymentId: string;
  logger: Logger;
  config: ConfigStore;
  lifecycle: Lifecycle;
  frontend: FrontendStatus | undefined;
  secretKey: string;
  /** A per-request EntityManager; throws while the database is not open. */
  em(): EntityManager;
  database(): Database | undefined;
  signinLimits: { byEmail: RateLimiter; byClient: RateLimiter };
  /** Signed-in users by id, reused briefly by the session middleware. */
  sessionUsers: SessionUserCache;
  /** How often cached rows are read again: only a shared (Postgres) database changes behind our back. */
  rereads: Rereads;
}
