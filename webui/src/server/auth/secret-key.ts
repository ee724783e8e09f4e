import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SECRET_KEY_FILE = '.webui_secret_key';

/**
 * WEBUI_SECRET_KEY, or one generated once and kept in DATA_DIR (mode 0600),
 * so tokens survive restarts. The key is never logged.
 */
export function loadOrCreateSecretKey(
  configured: string | undefined,
  dataDir: string,
): {
  key: string;
  origin: 'env' | 'file' | 'generated';
  file?: string;
} {
  if (configured !== undefined) return { key: configured, origin: 'env' };
  const file = path.resolve(dataDir, SECRET_KEY_FILE);
  try {
    const existing = readFileSync(file, 'utf8').trim();
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
