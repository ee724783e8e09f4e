import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../server/testing/server-process.ts';
import { openDatabase } from './orm.ts';
import { deleteUser, findUserById, insertUser, setUserRole } from './users.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('openDatabase onUserChanged', () => {
  it('reports user rows changed or deleted through the ORM, and nothing for inserts or reads', async () => {
    const t = tempDir();
    const changed: string[] = [];
    const db = await openDatabase({
      databaseUrl: undefined,
      dataDir: t.dir,
      onUserChanged: (id) => changed.push(id),
    });
    cleanups.push(() => db.close(), t.remove);
    await db.migrate();
    const u = await insertUser(db.fork(), {
      email: 'a@example.com',
      name: 'A',
      role: 'pending',
      passwordHash: 'x',
      profileImageUrl: '',
    });
    expect(changed).toEqual([]);
    const em = db.fork();
    const row = await findUserById(em, u.id);
    expect(changed).toEqual([]);
    await setUserRole(em, row as NonNullable<typeof row>, 'user');
    expect(changed.length).toBeGreaterThan(0);
    expect(new Set(changed)).toEqual(new Set([u.id]));
    changed.length = 0;
    const em2 = db.fork();
    const again = await findUserById(em2, u.id);
    await deleteUser(em2, again as NonNullable<typeof again>);
    expect(new Set(changed)).toEqual(new Set([u.id]));
  });
});
