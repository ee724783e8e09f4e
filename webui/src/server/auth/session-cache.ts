import type { SessionUser } from '../types.ts';

/** The session user plus what the session middleware checks against the token (not put on ctx.state). */
export interface SessionAccount extends SessionUser {
  /** Tokens issued under another version are refused (auth/authenticate.ts). */
  tokenVersion: number;
}

export interface SessionUserCacheOptions {
  /** How long a looked-up user is reused; also the staleness bound for changes made by other replicas. */
  ttlMs?: number;
  /** Most users kept; beyond it the oldest entries go first. */
  maxEntries?: number;
  now?: () => number;
}

/** Default lifetime of a cached session user (see docs/webui-server.md, "Session lookups"). */
export const SESSION_CACHE_TTL_MS = 1000;

interface Entry {
  user: SessionAccount;
  expiresAt: number;
}

/**
 * The signed-in user behind a token, reused for a short time so that a burst
 * of API calls (every /ollama request, every chat save) does not read the
 * users table each time. Changes made through this process's ORM invalidate
 * the entry at once (db/orm.ts reports them); changes made by another replica
 * show within `ttlMs`. Accounts that do not exist are never cached.
 */
export class SessionUserCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Lookups in flight, shared by concurrent requests of one user. */
  readonly #loading = new Map<string, Promise<SessionAccount | undefined>>();
  /** Background re-reads queued but not started yet. */
  readonly #scheduled = new Set<string>();
  /**
   * Bumped by every invalidation: a lookup that started before one may have
   * read the old row, so its result is returned but not kept.
   */
  #generation = 0;

  constructor(opts: SessionUserCacheOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? SESSION_CACHE_TTL_MS;
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * The cached user, else `load(id)` (kept when it found one). An entry past
   * half its lifetime is still served, and re-read in the background so that
   * a busy user's requests rarely wait for the database; nothing older than
   * `ttlMs` is ever served.
   */
  get(
    id: string,
    load: (id: string) => Promise<SessionAccount | undefined>,
  ): Promise<SessionAccount | undefined> {
    const hit = this.#entries.get(id);
    if (hit !== undefined) {
      const left = hit.expiresAt - this.#now();
      if (left > 0) {
        if (
          Number.isFinite(this.#ttlMs) &&
          left <= this.#ttlMs / 2 &&
          !this.#loading.has(id) &&
          !this.#scheduled.has(id)
        ) {
          // After this request's own work: SQLite reads block the event loop, so they
          // should not run before this request has sent its call upstream.
          this.#scheduled.add(id);
          setImmediate(() => {
            this.#scheduled.delete(id);
            if (this.#loading.has(id)) return;
            this.#load(id, load).catch(() => {
              // The entry expires on its own; the next request after that reads again and sees the error.
            });
          });
        }
        return Promise.resolve(hit.user);
      }
      this.#entries.delete(id);
    }
    return this.#loading.get(id) ?? this.#load(id, load);
  }

  #load(
    id: string,
    load: (id: string) => Promise<SessionAccount | undefined>,
  ): Promise<SessionAccount | undefined> {
    const generation = this.#generation;
    const done = () => {
      if (this.#loading.get(id) === p) this.#loading.delete(id);
    };
    const p: Promise<SessionAccount | undefined> = load(id).then(
      (user) => {
        done();
        if (user === undefined) {
          // Gone (deleted): drop what a background refresh may still hold.
          this.#entries.delete(id);
          return undefined;
        }
        // Shared by concurrent requests: nobody may change it in place.
        const frozen = Object.freeze({ ...user });
        if (generation === this.#generation && this.#ttlMs > 0) this.#keep(id, frozen);
        return frozen;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
    this.#loading.set(id, p);
    return p;
  }

  /** Forgets one user (role, profile or password changed, account deleted). */
  invalidate(id: string): void {
    this.#generation++;
    this.#entries.delete(id);
    // A lookup already under way may return the old row; later callers must not join it.
    this.#loading.delete(id);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
    this.#loading.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #keep(id: string, user: SessionAccount): void {
    this.#entries.delete(id);
    if (this.#entries.size >= this.#maxEntries) {
      const now = this.#now();
      for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
      // Still full of live entries: drop the oldest (Map keeps insertion order).
      if (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next();
        if (oldest.done !== true) this.#entries.delete(oldest.value);
      }
    }
    this.#entries.set(id, { user, expiresAt: this.#now() + this.#ttlMs });
  }
}
