import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { EventArgs, EventSubscriber, FlushEventArgs, MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { dialectOf } from './dialect.ts';
import { entities, UserEntity, type UserRow } from './entities.ts';
import { type Dialect, migrationsList } from './migrations.ts';

export interface Database {
  readonly dialect: Dialect;
  /** A fresh EntityManager; use one per request or per unit of work. */
  fork(): EntityManager;
  /**
   * Runs `fn` (migrations, config reset) while holding a database-wide lock,
   * so replicas starting together on one Postgres take turns. SQLite has one
   * writer process by design, so it just runs `fn`.
   */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Applies pending migrations. */
  migrate(): Promise<void>;
  /** Runs `select 1`; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** DATABASE_URL; undefined means SQLite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * Told the id of every user row this process updates or deletes through the
   * ORM, so caches of it (the session user cache) can drop it. Called right
   * after the statement and again once the flush has committed.
   */
  onUserChanged?: (id: string) => void;
}

/** Where SQLite lives: `sqlite:///abs/path.db`, `sqlite://rel/path.db`, or DATA_DIR/webui.db. */
export function sqlitePath(opts: DatabaseOptions): string {
  if (opts.databaseUrl?.startsWith('sqlite://'))
    return path.resolve(opts.databaseUrl.slice('sqlite://'.length));
  return path.resolve(opts.dataDir, 'webui.db');
}

/** Reports changed and deleted user rows; see DatabaseOptions.onUserChanged. */
export class UserChangeSubscriber implements EventSubscriber<UserRow> {
  readonly #notify: (id: string) => void;
  /** Ids changed by each EntityManager's flush, to report again once committed. */
  readonly #pending = new Map<object, Set<string>>();

  constructor(notify: (id: string) => void) {
    this.#notify = notify;
  }

  getSubscribedEntities() {
    return [UserEntity];
  }

  afterUpdate(args: EventArgs<UserRow>): void {
    this.#changed(args);
  }

  afterUpsert(args: EventArgs<UserRow>): void {
    this.#changed(args);
  }

  afterDelete(args: EventArgs<UserRow>): void {
    this.#changed(args);
  }

  // Once more after the commit: a reader on another pooled connection may have
  // read the old row between the statement and the commit.
  afterFlush(args: FlushEventArgs): void {
    const ids = this.#pending.get(args.em);
    if (ids === undefined || args.em.isInTransaction()) return;
    this.#pending.delete(args.em);
    for (const id of ids) this.#notify(id);
  }

  // An explicit transaction commits after its flushes; report everything pending (extra reports are harmless).
  afterTransactionCommit(): void {
    for (const ids of this.#pending.values()) for (const id of ids) this.#notify(id);
    this.#pending.clear();
  }

  afterTransactionRollback(): void {
    this.afterTransactionCommit();
  }

  #changed(args: EventArgs<UserRow>): void {
    const id = args.entity.id;
    const ids = this.#pending.get(args.em) ?? new Set<string>();
    this.#pending.set(args.em, ids);
    ids.add(id);
    this.#notify(id);
  }
}

/**
 * Opens the database (migrations are applied by `migrate`). The driver module
 * is imported lazily so that only the one in use is loaded.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const dialect: Dialect = dialectOf(opts.databaseUrl);
  const isPostgres = dialect === 'postgresql';
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
    subscribers: opts.onUserChanged === undefined ? [] : [new UserChangeSubscriber(opts.onUserChanged)],
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
  const url = opts.databaseUrl;
  return {
    dialect,
    withStartupLock: (fn) => (isPostgres && url !== undefined ? withAdvisoryLock(url, fn) : fn()),
    async migrate() {
      await orm.migrator.up();
    },
    fork: () => orm.em.fork() as EntityManager,
    async ping() {
      await (orm.em.fork() as EntityManager).getConnection().execute('select 1');
    },
    close: () => orm.close(true),
  };
}

/** The part of the `pg` client used here (pg ships no typings of its own). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
}

/** An arbitrary constant naming "webui startup" among Postgres advisory locks. */
const STARTUP_LOCK_ID = 727_001;

/**
 * A session-level advisory lock on a dedicated connection: the migrator uses
 * its own pooled connections, so the lock cannot live on one of those.
 */
async function withAdvisoryLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const pgModule = 'pg';
  const pg = (await import(pgModule)) as {
    default: { Client: new (o: { connectionString: string }) => PgClient };
  };
  const client = new pg.default.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [STARTUP_LOCK_ID]);
    return await fn();
  } finally {
    await client.query('select pg_advisory_unlock($1)', [STARTUP_LOCK_ID]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
