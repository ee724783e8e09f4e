import { afterEach, describe, expect, it } from 'vitest';
import { explicitlySet, readEnv } from '../contract/env.ts';
import { type Database, openDatabase } from '../db/orm.ts';
import { tempDir } from '../server/testing/server-process.ts';
import { ConfigError } from './runtime-config.ts';
import { ConfigStore } from './store.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function sqlite(): Promise<Database> {
  const t = tempDir();
  const db = await openDatabase({ databaseUrl: undefined, dataDir: t.dir });
  await db.migrate();
  cleanups.push(() => db.close(), t.remove);
  return db;
}

function store(db: Database, raw: Record<string, string>, now?: () => number) {
  return new ConfigStore({
    env: readEnv(raw),
    explicit: explicitlySet(raw),
    fork: () => db.fork(),
    ...(now ? { now } : {}),
  });
}

describe('ConfigStore', () => {
  it('saves an admin value that wins over env and survives a new store (restart)', async () => {
    const db = await sqlite();
    const a = store(db, { DEFAULT_USER_ROLE: 'user' });
    await a.load();
    expect(a.explain('defaultUserRole')).toMatchObject({ value: 'user', source: 'env' });
    await a.set('defaultUserRole', 'admin');
    expect(a.get('defaultUserRole')).toBe('admin');
    const b = store(db, { DEFAULT_USER_ROLE: 'user' });
    await b.load();
    expect(b.explain('defaultUserRole')).toMatchObject({ value: 'admin', source: 'saved' });
  });

  it('refuses to change a managed setting (env-owned, 409) naming it, but accepts its current value', async () => {
    const db = await sqlite();
    const s = store(db, { WEBUI_MANAGED_SETTINGS: 'DEFAULT_USER_ROLE', DEFAULT_USER_ROLE: 'user' });
    await s.load();
    await expect(s.set('defaultUserRole', 'user')).resolves.toBeUndefined();
    const err = await s.set('defaultUserRole', 'admin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).kind).toBe('env-owned');
    expect((err as ConfigError).message).toBe(
      'DEFAULT_USER_ROLE is managed by the deployment (e.g. the WebUI resource) and cannot be changed here',
    );
  });

  it('rejects invalid values (invalid, 400)', async () => {
    const db = await sqlite();
    const s = store(db, {});
    await s.load();
    const err = await s.set('jwtExpiresIn', 'forever').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).kind).toBe('invalid');
    expect((err as ConfigError).message).toMatch(/^JWT_EXPIRES_IN: /);
  });

  it('never lets an automatic write replace an admin choice', async () => {
    const db = await sqlite();
    const s = store(db, {});
    await s.load();
    await s.set('enableSignup', true);
    await s.setSystem('enableSignup', false);
    expect(s.explain('enableSignup')).toMatchObject({ value: true, source: 'saved' });
  });

  it("picks up another replica's change after the cache TTL", async () => {
    const db = await sqlite();
    let now = 0;
    const a = store(db, {}, () => now);
    const b = store(db, {}, () => now);
    await a.load();
    await b.load();
    await a.set('showAdminDetails', false);
    await b.refreshIfStale();
    expect(b.get('showAdminDetails')).toBe(true);
    now += 1_000;
    await b.refreshIfStale();
    expect(b.get('showAdminDetails')).toBe(false);
  });

  it('with an endless TTL (SQLite, one writer) never reads again, and still sees its own writes at once', async () => {
    const db = await sqlite();
    let now = 0;
    let reads = 0;
    const s = new ConfigStore({
      env: readEnv({}),
      explicit: explicitlySet({}),
      fork: () => {
        reads++;
        return db.fork();
      },
      ttlMs: Number.POSITIVE_INFINITY,
      now: () => now,
    });
    await s.load();
    const afterLoad = reads;
    now += 86_400_000;
    expect(s.refreshIfStale()).toBeUndefined();
    await s.set('showAdminDetails', false);
    expect(s.get('showAdminDetails')).toBe(false);
    now += 86_400_000;
    expect(s.refreshIfStale()).toBeUndefined();
    // The write itself used the database; nothing was read back.
    expect(reads).toBe(afterLoad + 1);
  });
});

describe('ConfigStore.summary', () => {
  it('lists each changeable setting with its source and masks URL credentials', async () => {
    const db = await sqlite();
    const s = store(db, { OLLAMA_BASE_URLS: 'http://bob:hunter2@ollama:11434', DEFAULT_USER_ROLE: 'user' });
    await s.load();
    const summary = s.summary();
    expect(summary.DEFAULT_USER_ROLE).toEqual({ value: 'user', source: 'env' });
    expect(summary.ENABLE_SIGNUP).toEqual({ value: true, source: 'default' });
    expect(JSON.stringify(summary)).not.toContain('hunter2');
    expect(summary.OLLAMA_BASE_URLS?.value).toEqual(['http://***@ollama:11434']);
    expect(summary.PORT).toBeUndefined();
  });

  it('shows the Ollama URLs the proxy uses: OLLAMA_BASE_URL when OLLAMA_BASE_URLS is empty', async () => {
    const db = await sqlite();
    const byDefault = store(db, {});
    await byDefault.load();
    expect(byDefault.summary().OLLAMA_BASE_URLS).toEqual({
      value: ['http://localhost:11434'],
      source: 'default',
      from: 'OLLAMA_BASE_URL',
    });
    const single = store(db, { OLLAMA_BASE_URL: 'http://gpu-box:11434' });
    await single.load();
    expect(single.summary().OLLAMA_BASE_URLS).toEqual({
      value: ['http://gpu-box:11434'],
      source: 'env',
      from: 'OLLAMA_BASE_URL',
    });
  });
});
