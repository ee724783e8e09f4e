/**
 * The databases the integration suites run against: a real SQLite file in a
 * temp DATA_DIR, and a real Postgres 15 started by test/postgres.
 */
import { type StartedPostgres, startPostgres } from '../../../../test/postgres/postgres.ts';
import { tempDir } from './server-process.ts';

export interface DbBackend {
  name: 'sqlite' | 'postgres';
  /** Env for a brand-new, empty database (with its own DATA_DIR). */
  fresh(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

export function sqliteBackend(): DbBackend {
  const dirs: Array<() => void> = [];
  return {
    name: 'sqlite',
    async fresh() {
      const t = tempDir('webui-sqlite-');
      dirs.push(t.remove);
      return { DATA_DIR: t.dir };
    },
    async cleanup() {
      for (const d of dirs.splice(0)) d();
    },
  };
}

export function postgresBackend(): DbBackend {
  let pg: StartedPostgres | undefined;
  let n = 0;
  const dirs: Array<() => void> = [];
  return {
    name: 'postgres',
    async fresh() {
      pg ??= await startPostgres();
      const t = tempDir('webui-pg-data-');
      dirs.push(t.remove);
      return { DATA_DIR: t.dir, DATABASE_URL: await pg.createDatabase(`webui_${process.pid}_${++n}`) };
    },
    async cleanup() {
      for (const d of dirs.splice(0)) d();
      await pg?.stop();
      pg = undefined;
    },
  };
}

/** HTTP against a test server: JSON in, JSON (or text) out, never throws on status. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers, text };
}
