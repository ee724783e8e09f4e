import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { CONFIG_TTL_MS, ConfigStore } from '../config/store.ts';
import { explicitlySet, type ResolvedEnv, type ServeMode, settings } from '../contract/env.ts';
import { dialectOf, rereadsFor } from '../db/dialect.ts';
import type { Database } from '../db/orm.ts';
import { type AppParts, type BuiltApp, createApp } from './app.ts';
import { appPath } from './app-root.ts';
import { RateLimiter } from './auth/rate-limit.ts';
import { loadOrCreateSecretKey } from './auth/secret-key.ts';
import { SESSION_CACHE_TTL_MS, SessionUserCache } from './auth/session-cache.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Lifecycle, Services } from './services.ts';
import { frontendStatus } from './static/frontend.ts';

export interface StartOptions {
  mode: ServeMode;
  env: ResolvedEnv;
  /** The raw environment, to know which variables were given explicitly. */
  rawEnv: Readonly<Record<string, string | undefined>>;
}

export interface RunningServer {
  server: Server;
  services: Services;
  built: BuiltApp;
  /** Resolves when startup (migrations, reset, config load) is done; rejects on failure. */
  startup: Promise<void>;
  close(): Promise<void>;
}

/** Sign-in limits: Open WebUI's 15 attempts per 3 minutes per email, and a wider net per client. */
export const SIGNIN_WINDOW_MS = 180_000;
export const SIGNIN_PER_EMAIL = 15;
export const SIGNIN_PER_CLIENT = 60;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(appPath('package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Listens first, then opens the database in the background: migrations, then
 * RESET_CONFIG_ON_START (before any saved setting is read), then loading the
 * saved settings. Until then /ready and the API answer 503.
 */
export async function startServer(
  opts: StartOptions,
  logger: Logger = createLogger(opts.env.logLevel),
): Promise<RunningServer> {
  const { env, mode } = opts;
  const lifecycle: Lifecycle = { ready: false };
  let db: Database | undefined;

  const rereads = rereadsFor(dialectOf(env.databaseUrl), {
    config: CONFIG_TTL_MS,
    session: SESSION_CACHE_TTL_MS,
  });
  const config = new ConfigStore({
    env,
    ttlMs: rereads.configTtlMs,
    explicit: explicitlySet(opts.rawEnv),
    fork: () => {
      if (db === undefined) throw new Error('database not open');
      return db.fork();
    },
  });

  const needsDb = mode !== 'frontend';
  const secret = needsDb ? secretKeyOrExplain(env) : { key: '', origin: 'env' as const };
  if (secret.origin === 'generated')
    logger.info({ file: secret.file }, 'generated a new WEBUI_SECRET_KEY and stored it in DATA_DIR');

  const frontend = mode === 'api' ? undefined : frontendStatus(env.frontendBuildDir);
  if (frontend && !frontend.present) {
    logger.warn(
      { dir: frontend.dir },
      `frontend build not found at ${frontend.dir}; serving the API only. Build it with \`make frontend\``,
    );
  }

  const em = () => {
    if (db === undefined) throw new Error('database not open');
    return db.fork();
  };
  const services: Services = {
    env,
    mode,
    version: packageVersion(),
    deploymentId: env.deploymentId ?? hostname(),
    logger,
    config,
    lifecycle,
    frontend,
    secretKey: secret.key,
    em,
    database: () => db,
    signinLimits: {
      byEmail: new RateLimiter({ scope: 'email', limit: SIGNIN_PER_EMAIL, windowMs: SIGNIN_WINDOW_MS, em }),
      byClient: new RateLimiter({
        scope: 'client',
        limit: SIGNIN_PER_CLIENT,
        windowMs: SIGNIN_WINDOW_MS,
        em,
      }),
    },
    sessionUsers: new SessionUserCache({ ttlMs: rereads.sessionTtlMs }),
    rereads,
  };

  const parts = await loadAppParts(mode, env, config, logger);
  const built = createApp(services, parts);
  const server = built.app.listen(env.port, env.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  logger.info(
    {
      mode,
      address: typeof address === 'object' && address ? `${address.address}:${address.port}` : address,
    },
    'listening',
  );

  const startup = needsDb ? initDatabase() : markReady();

  async function markReady(): Promise<void> {
    lifecycle.ready = true;
  }

  async function initDatabase(): Promise<void> {
    try {
      const { openDatabase } = await import('../db/orm.ts');
      const { applyConfigReset } = await import('../db/config-entries.ts');
      const opened = await openDatabase({
        databaseUrl: env.databaseUrl,
        dataDir: env.dataDir,
        onUserChanged: (id) => services.sessionUsers.invalidate(id),
      });
      // Migrations, then the reset, before any saved setting is read; one replica at a time.
      const prepare = () =>
        opened.withStartupLock(async () => {
          await opened.migrate();
          return applyConfigReset(opened.fork(), {
            enabled: env.resetConfigOnStart,
            token: env.configResetToken,
          });
        });
      let outcome: Awaited<ReturnType<typeof prepare>>;
      try {
        outcome = await retryWhileUnreachable(prepare, logger);
      } catch (err) {
        await opened.close().catch(() => undefined);
        throw err;
      }
      db = opened;
      if (outcome === 'reset' && env.configResetToken === undefined) {
        logger.warn(
          `${settings.resetConfigOnStart.env}=true deleted every saved setting; it does so on EVERY start. Remove the variable, or set ${settings.configResetToken.env} to make it one-shot`,
        );
      } else if (outcome === 'reset') {
        logger.info(
          `${settings.resetConfigOnStart.env}: saved settings deleted (token applied; later starts will not reset again)`,
        );
      } else if (outcome === 'already-applied') {
        logger.info(
          `${settings.resetConfigOnStart.env}: this ${settings.configResetToken.env} was applied before; nothing reset`,
        );
      }
      await config.load();
      logger.info(
        { settings: config.summary() },
        'effective settings (value and source: default, env, saved or managed)',
      );
      lifecycle.ready = true;
      logger.info({ database: db.dialect }, 'ready');
    } catch (err) {
      lifecycle.failure = `Database startup failed: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    }
  }

  return {
    server,
    services,
    built,
    startup,
    async close() {
      lifecycle.stopping = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await db?.close();
    },
  };
}

function secretKeyOrExplain(env: ResolvedEnv): ReturnType<typeof loadOrCreateSecretKey> {
  try {
    return loadOrCreateSecretKey(env.webuiSecretKey, env.dataDir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Without a code it is not the file system: a key that is too short, already one line.
    if (err.code === undefined) throw e;
    throw new Error(
      `${settings.dataDir.env}: cannot keep the generated secret key in ${env.dataDir} (${err.code ?? err.message}); make the directory writable or set ${settings.webuiSecretKey.env}`,
    );
  }
}

/** Connection errors worth waiting out: the database (e.g. a Postgres pod) may start after us. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', '57P03']);
export const DB_WAIT_MS = 30_000;

async function retryWhileUnreachable<T>(fn: () => Promise<T>, logger: Logger): Promise<T> {
  const deadline = Date.now() + DB_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === undefined || !TRANSIENT.has(code) || Date.now() > deadline) throw err;
      logger.warn({ code, attempt }, 'database not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}

/**
 * The pieces built in ollama/ and forward/ that this mode needs, imported
 * lazily so each mode loads only its own code.
 */
export async function loadAppParts(
  mode: ServeMode,
  env: ResolvedEnv,
  config: RuntimeConfig,
  logger: Logger,
): Promise<AppParts> {
  if (mode === 'frontend') {
    if (env.backendUrl === undefined)
      throw new Error(`${settings.backendUrl.env} is required with --mode frontend`);
    const { forwardTo } = await import('./forward/forward.ts');
    return { forward: forwardTo(env.backendUrl, logger, env.basePath, env.forwardedAllowIps) };
  }
  const { createOllamaRouter } = await import('./ollama/router.ts');
  const { placeFrom, readPlaceClues } = await import('./ollama/loopback-hint.ts');
  const where = { place: placeFrom(readPlaceClues()), port: env.port };
  return { ollamaRouter: (registry) => createOllamaRouter({ config, logger, registry, where }) };
}
