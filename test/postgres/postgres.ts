/**
 * A real, throwaway Postgres 15 for tests (Debian's postgresql package; no
 * Docker). initdb refuses to run as root, so the cluster is created and run as
 * the `postgres` user (when we are root) in a temp dir it owns, listening on 127.0.0.1 on a free
 * port with trust auth. `stop()` kills it and removes the directory.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface StartedPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<db> */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export function postgresAvailable(): boolean {
  return existsSync(path.join(PG_BIN, 'initdb')) && existsSync(path.join(PG_BIN, 'postgres'));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<StartedPostgres> {
  // A missing server is a failure, never a skip: the Postgres suites are part of `make test`.
  if (!postgresAvailable()) {
    throw new Error(
      `Postgres 15 server binaries not found in ${PG_BIN}; install Debian's postgresql package (apt-get install postgresql)`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'webui-pg-'));
  const data = path.join(dir, 'data');
  const user = pgUser();
  if (user) chownSync(dir, user.uid, user.gid);
  // Run as postgres directly (spawn's uid/gid), so signals reach the server itself.
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(
    path.join(PG_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'],
    {
      stdio: 'pipe',
      cwd: dir,
      ...as,
    },
  );

  const port = await freePort();
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=50',
  ];
  const proc: ChildProcess = spawn(path.join(PG_BIN, 'postgres'), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: dir,
    ...as,
  });
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  // psql rather than the pg module: it ships with the server and needs no typings.
  const query = (sql: string, database = 'postgres') =>
    execFileAsync(
      path.join(PG_BIN, 'psql'),
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url(database), '-c', sql],
      {
        timeout: 10_000,
      },
    );

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`postgres exited: ${stderr}`);
    try {
      await query('select 1');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${String(err)}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    port,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await query(`create database ${name}`);
      return url(name);
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        // SIGQUIT is Postgres' "immediate shutdown": the data is thrown away anyway.
        proc.kill('SIGQUIT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
