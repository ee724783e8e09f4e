import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

describe('MikroORM packages', () => {
  it('are all pinned to one exact version, and that version is installed', () => {
    const deps = { ...pkg.dependencies, ...pkg.devDependencies };
    const orm = Object.entries(deps).filter(([name]) => name.startsWith('@mikro-orm/'));
    expect(orm.map(([name]) => name)).toEqual(
      expect.arrayContaining(['@mikro-orm/core', '@mikro-orm/sqlite', '@mikro-orm/postgresql']),
    );
    const versions = new Set(orm.map(([, v]) => v));
    expect([...versions]).toHaveLength(1);
    const [version] = versions;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const [name] of orm) {
      const installed = JSON.parse(
        readFileSync(new URL(`node_modules/${name}/package.json`, root), 'utf8'),
      ) as { version: string };
      expect([name, installed.version]).toEqual([name, version]);
    }
  });
});
