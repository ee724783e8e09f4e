import type { EntityManager } from '@mikro-orm/sql';
import { ConfigEntryEntity, ConfigResetEntity } from './entities.ts';

/**
 * Who wrote a saved value. `admin` is a deliberate change through the API;
 * `system` is an automatic write such as closing signup after the first
 * account. A deliberate env value outranks an automatic write, so
 * `ENABLE_SIGNUP=true` can reopen signup that closed by itself.
 */
export type SavedOrigin = 'admin' | 'system';

/** A persisted setting as read back from the database. */
export interface SavedValue {
  value: unknown;
  origin: SavedOrigin;
  updatedAt: number;
}

/** Every persisted setting, keyed by its persisted key (e.g. `ui.enable_signup`). */
export async function readConfigEntries(em: EntityManager): Promise<Map<string, SavedValue>> {
  const out = new Map<string, SavedValue>();
  for (const row of await em.find(ConfigEntryEntity, {})) {
    try {
      out.set(row.key, {
        value: JSON.parse(row.value),
        origin: row.origin === 'admin' ? 'admin' : 'system',
        updatedAt: row.updatedAt,
      });
    } catch {
      // A row we cannot parse is treated as absent rather than breaking startup.
    }
  }
  return out;
}

export async function writeConfigEntry(
  em: EntityManager,
  key: string,
  value: unknown,
  origin: SavedOrigin,
): Promise<SavedValue> {
  const updatedAt = Math.floor(Date.now() / 1000);
  await em.upsert(ConfigEntryEntity, { key, value: JSON.stringify(value), origin, updatedAt });
  return { value, origin, updatedAt };
}

export interface AppliedReset {
  token: string;
  appliedAt: number;
}

export async function lastAppliedReset(em: EntityManager): Promise<AppliedReset | null> {
  const [row] = await em.find(ConfigResetEntity, {}, { orderBy: { appliedAt: 'desc' }, limit: 1 });
  return row ? { token: row.token, appliedAt: row.appliedAt } : null;
}

export type ResetOutcome = 'reset' | 'already-applied' | 'not-requested';

/**
 * RESET_CONFIG_ON_START: deletes every persisted setting (users and chats stay).
 * With a token it is one-shot: the token is recorded in the same transaction,
 * and a token seen before means nothing happens.
 */
export async function applyConfigReset(
  em: EntityManager,
  opts: { enabled: boolean; token: string | undefined },
): Promise<ResetOutcome> {
  if (!opts.enabled) return 'not-requested';
  return em.transactional(async (tx) => {
    if (opts.token !== undefined) {
      if (await tx.findOne(ConfigResetEntity, { token: opts.token })) return 'already-applied';
      tx.create(ConfigResetEntity, { token: opts.token, appliedAt: Math.floor(Date.now() / 1000) });
    }
    await tx.nativeDelete(ConfigEntryEntity, {});
    await tx.flush();
    return 'reset';
  });
}
