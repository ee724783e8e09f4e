import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvError, MIN_SECRET_KEY_BYTES } from '../../contract/env.ts';

export const SECRET_KEY_FILE = '.webui_secret_key';

// The operator generates 32 random bytes (base64url, 43 characters); a generated DATA_DIR key is 48.
export { MIN_SECRET_KEY_BYTES };

const tooShort = (key: string) => Buffer.byteLength(key, 'utf8') < MIN_SECRET_KEY_BYTES;

/**
 * WEBUI_SECRET_KEY, or one generated once and kept in DATA_DIR (mode 0600),
 * so tokens survive restarts. The key is never logged. A key shorter than
 * MIN_SECRET_KEY_BYTES stops startup with one line naming where it came from.
 */
export function loadOrCreateSecretKey(
  configured: string | undefined,
  dataDir: string,
): {
  key: string;
  origin: 'env' | 'file' | 'generated';
  file?: string;
} {
  if (configured !== undefined) {
    if (tooShort(configured)) {
      throw new EnvError(
        'WEBUI_SECRET_KEY',
        `is ${Buffer.byteLength(configured, 'utf8')} bytes, needs at least ${MIN_SECRET_KEY_BYTES} bytes; set it to a random value such as the output of \`openssl rand -base64 32\`, or unset it to have one generated under DATA_DIR (either signs everyone out)`,
      );
    }
    return { key: configured, origin: 'env' };
  }
  const file = path.resolve(dataDir, SECRET_KEY_FILE);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing !== '' && tooShort(existing)) {
      throw new Error(
        `DATA_DIR: the secret key in ${file} is ${Buffer.byteLength(existing, 'utf8')} bytes, needs at least ${MIN_SECRET_KEY_BYTES} bytes; delete the file to have a new one generated (signs everyone out), or set WEBUI_SECRET_KEY`,
      );
    }
    if (existing !== '') return { key: existing, origin: 'file', file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(48).toString('base64url');
  // 'wx' fails if another process created it meanwhile; then use theirs.
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      return { key: readFileSync(file, 'utf8').trim(), origin: 'file', file };
    throw e;
  }
  return { key, origin: 'generated', file };
}
