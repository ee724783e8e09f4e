import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvError } from '../../contract/env.ts';
import { tempDir } from '../testing/server-process.ts';
import { loadOrCreateSecretKey, MIN_SECRET_KEY_BYTES, SECRET_KEY_FILE } from './secret-key.ts';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function dataDir(): string {
  const t = tempDir('webui-key-');
  dirs.push(t);
  return t.dir;
}

describe('loadOrCreateSecretKey', () => {
  it('refuses a WEBUI_SECRET_KEY shorter than 32 bytes with one line naming it and the fix, never the key', () => {
    const short = 's3cr3t-but-too-short';
    let err: unknown;
    try {
      loadOrCreateSecretKey(short, dataDir());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvError);
    const message = (err as Error).message;
    expect(message).toMatch(/^WEBUI_SECRET_KEY: is 20 bytes, needs at least 32 bytes; /);
    expect(message).toContain('openssl rand -base64 32');
    expect(message).not.toContain(short);
    expect(message).not.toContain('\n');
  });

  it('accepts 32 bytes, such as the key the operator generates (32 random bytes, base64url)', () => {
    expect(MIN_SECRET_KEY_BYTES).toBe(32);
    expect(loadOrCreateSecretKey('k'.repeat(32), dataDir()).origin).toBe('env');
    const operatorKey = randomBytes(32).toString('base64url');
    expect(loadOrCreateSecretKey(operatorKey, dataDir())).toEqual({ key: operatorKey, origin: 'env' });
  });

  it('counts bytes, not characters', () => {
    // 16 characters, 32 bytes in UTF-8.
    expect(loadOrCreateSecretKey('é'.repeat(16), dataDir()).origin).toBe('env');
    expect(() => loadOrCreateSecretKey('é'.repeat(15), dataDir())).toThrow(EnvError);
  });

  it('generates a long key once, and refuses a short one found in DATA_DIR', () => {
    const dir = dataDir();
    const made = loadOrCreateSecretKey(undefined, dir);
    expect(made.origin).toBe('generated');
    expect(Buffer.byteLength(made.key)).toBeGreaterThanOrEqual(32);
    expect(loadOrCreateSecretKey(undefined, dir)).toMatchObject({ key: made.key, origin: 'file' });
    writeFileSync(path.join(dir, SECRET_KEY_FILE), 'short\n');
    expect(() => loadOrCreateSecretKey(undefined, dir)).toThrow(/^DATA_DIR: the secret key in .* is 5 bytes/);
  });
});
