#!/usr/bin/env node
/**
 * `webui serve [--mode all|api|frontend]`: the WebUI server.
 * Bad settings stop startup with ONE line naming the variable (exit 2).
 */
import { EnvError, readEnv, SERVE_MODES, type ServeMode, settings } from '../src/contract/env.ts';

const USAGE = 'usage: webui serve [--mode all|api|frontend]';

function fail(line: string, code = 2): never {
  process.stderr.write(`webui: ${line}\n`);
  process.exit(code);
}

function parseArgs(argv: string[]): { mode: ServeMode } {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (command !== 'serve') fail(command === undefined ? USAGE : `unknown command "${command}"; ${USAGE}`);
  let mode: ServeMode = 'all';
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    const value = arg.startsWith('--mode=')
      ? arg.slice('--mode='.length)
      : arg === '--mode'
        ? rest[++i]
        : undefined;
    if (value === undefined) fail(`unknown option "${arg}"; ${USAGE}`);
    if (!SERVE_MODES.includes(value as ServeMode))
      fail(`--mode: expected one of ${SERVE_MODES.join(', ')}, got "${value}"`);
    mode = value as ServeMode;
  }
  return { mode };
}

const { mode } = parseArgs(process.argv.slice(2));

let env: ReturnType<typeof readEnv>;
try {
  env = readEnv(process.env);
} catch (e) {
  if (e instanceof EnvError) fail(e.message);
  throw e;
}
if (mode === 'frontend' && env.backendUrl === undefined) {
  fail(
    'BACKEND_URL: required with --mode frontend; set it to the API server, e.g. http://webui-backend:8080',
  );
}

// Loaded after the env check so a bad setting fails fast without loading the server.
const { startServer } = await import('../src/server/start.ts');
const { createLogger } = await import('../src/server/logger.ts');
const logger = createLogger(env.logLevel);

let running: Awaited<ReturnType<typeof startServer>>;
try {
  running = await startServer({ mode, env, rawEnv: process.env }, logger);
} catch (e) {
  // A setting that parses but cannot be used (e.g. a WEBUI_SECRET_KEY that is too short): exit 2, like a bad value.
  if (e instanceof EnvError) fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE')
    fail(`PORT: ${env.host}:${env.port} is already in use; set PORT to a free port`, 1);
  if (err.code === 'EACCES')
    fail(`PORT: not allowed to listen on ${env.host}:${env.port}; use a port above 1024`, 1);
  fail(err.message ?? String(e), 1);
}

running.startup.catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  logger.fatal({ err: e }, 'database startup failed');
  fail(
    `database: ${message.split('\n')[0]} (check ${settings.databaseUrl.env} / ${settings.dataDir.env})`,
    1,
  );
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Streams in flight get a grace period; then we go regardless.
    const force = setTimeout(() => process.exit(0), 10_000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
