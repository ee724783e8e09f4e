import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { entities } from './entities.ts';
import { type Dialect, migrationsList } from './migrations.ts';

export interface Database {
  readonly dialect: Dialect;
  /** A fresh EntityManager; use one per request or per unit of work. */
  fork(): EntityManager;
  /** Runs `select 1`; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** DATABASE_URL; undefined means SQLite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
}

/** Where SQLite lives: `sqlite:///abs/path.db`, `sqlite://rel/path.db`, or DATA_DIR/webui.db. */
export function sqlitePath(opts: DatabaseOptions): string {
  if (opts.databaseUrl?.startsWith('sqlite://'))
    return path.resolve(opts.databaseUrl.slice('sqlite://'.length));
  return path.resolve(opts.dataDir, 'webui.db');
}

/**
 * Opens the database and applies pending migrations. The driver module is
 * imported lazily so that only the one in use is loaded.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const isPostgres = opts.databaseUrl !== undefined && /^postgres(ql)?:\/\//.test(opts.databaseUrl);
  const dialect: Dialect = isPostgres ? 'postgresql' : 'sqlite';
  const { Migrator } = await import('@mikro-orm/migrations');
  const common = {
    entities,
    extensions: [Migrator],
    // No schema snapshot files: our migrations are hand-written.
    migrations: {
      migrationsList: migrationsList(dialect),
      silent: true,
      transactional: true,
      snapshot: false,
      snapshotOnMigrate: false,
    },
    // Our own logger covers what matters; the ORM's query logging could leak values.
    debug: false,
    allowGlobalContext: false,
  };
  let orm: MikroORM;
  if (isPostgres) {
    const { MikroORM: PgORM } = await import('@mikro-orm/postgresql');
    orm = await PgORM.init({ ...common, clientUrl: opts.databaseUrl });
  } else {
    const file = sqlitePath(opts);
    mkdirSync(path.dirname(file), { recursive: true });
    const { MikroORM: SqliteORM } = await import('@mikro-orm/sqlite');
    orm = await SqliteORM.init({ ...common, dbName: file });
  }
  try {
    await orm.migrator.up();
  } catch (err) {
    await orm.close(true);
    throw err;
  }
  return {
    dialect,
    fork: () => orm.em.fork() as EntityManager,
    async ping() {
      await (orm.em.fork() as EntityManager).getConnection().execute('select 1');
    },
    close: () => orm.close(true),
  };
}
