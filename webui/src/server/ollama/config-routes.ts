import type { z } from 'zod';
import type { RuntimeConfig } from '../../config/runtime-config.ts';
import { type OllamaApiConfig, type SettingName, settings } from '../../contract/env.ts';
import { badRequest } from '../http-error.ts';
import { currentConnections } from './connections.ts';
import type { configUpdateBody } from './schemas.ts';
import { withoutCredentials } from './upstream-errors.ts';

/** Stands in for a stored key in GET /ollama/config; sending it back means "keep the stored key". */
export const MASKED_KEY = '********';

const OLLAMA_SETTINGS: readonly SettingName[] = ['enableOllamaApi', 'ollamaBaseUrls', 'ollamaApiConfigs'];

function maskKeys(configs: Record<string, OllamaApiConfig>): Record<string, OllamaApiConfig> {
  const out: Record<string, OllamaApiConfig> = {};
  for (const [k, c] of Object.entries(configs)) {
    out[k] = typeof c.key === 'string' && c.key !== '' ? { ...c, key: MASKED_KEY } : { ...c };
  }
  return out;
}

/** GET /ollama/config: Open WebUI's three fields, plus which of them env manages (read-only in the UI). */
export function viewOllamaConfig(config: RuntimeConfig) {
  return {
    ENABLE_OLLAMA_API: config.get('enableOllamaApi'),
    // Basic-auth credentials in a URL are a password: shown as http://***@host, like a key.
    OLLAMA_BASE_URLS: currentConnections(config).map((c) => withoutCredentials(c.url)),
    OLLAMA_API_CONFIGS: maskKeys(config.get('ollamaApiConfigs')),
    MANAGED: OLLAMA_SETTINGS.filter((k) => config.isManaged(k)).map((k) => settings[k].env),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A URL shown masked (`http://***@host`) and sent back means the stored URL
 * with its credentials: the one at the same position, else any that masks
 * the same way. A masked URL that matches none is refused, so `***` is never
 * saved as a user name.
 */
export function unmaskUrl(url: string, stored: readonly string[], position: number, field: string): string {
  if (!url.includes('***@')) return url;
  const masks = (s: string | undefined): s is string => s !== undefined && withoutCredentials(s) === url;
  const at = stored[position];
  if (masks(at)) return at;
  const found = stored.find(masks);
  if (found !== undefined) return found;
  throw badRequest(`${field}: the credentials are masked (***) but match no saved URL; enter them in full`);
}

/**
 * POST /ollama/config/update. Only fields that are present and differ from
 * the effective value are written, so the UI can send the whole form even
 * when some settings are managed. A changed managed setting is written first:
 * its 409 from config.set then stops the update before anything else changed.
 */
export async function updateOllamaConfig(config: RuntimeConfig, body: z.output<typeof configUpdateBody>) {
  const changes: { key: SettingName; value: unknown }[] = [];

  const currentUrls = currentConnections(config).map((c) => c.url);
  let urls = currentUrls;
  if (body.OLLAMA_BASE_URLS !== undefined) {
    urls = body.OLLAMA_BASE_URLS.map((raw, i) => {
      let url: string;
      try {
        url = settings.ollamaBaseUrl.parse(raw);
      } catch (e) {
        throw badRequest(`OLLAMA_BASE_URLS[${i}]: ${(e as Error).message}`);
      }
      return unmaskUrl(url, currentUrls, i, `OLLAMA_BASE_URLS[${i}]`);
    }).filter((u, i, all) => all.indexOf(u) === i);
    if (!same(urls, currentUrls)) changes.push({ key: 'ollamaBaseUrls', value: urls });
  }

  if (body.ENABLE_OLLAMA_API !== undefined && body.ENABLE_OLLAMA_API !== config.get('enableOllamaApi')) {
    changes.push({ key: 'enableOllamaApi', value: body.ENABLE_OLLAMA_API });
  }

  const stored = config.get('ollamaApiConfigs');
  if (body.OLLAMA_API_CONFIGS !== undefined || urls.length !== currentUrls.length) {
    const next: Record<string, OllamaApiConfig> = {};
    const incoming = body.OLLAMA_API_CONFIGS ?? stored;
    for (const [k, c] of Object.entries(incoming)) {
      // Open WebUI drops entries that no longer point at a configured URL.
      if (!/^\d+$/.test(k) || Number(k) >= urls.length) continue;
      const entry: OllamaApiConfig = { ...c };
      if (entry.key === MASKED_KEY) {
        // The masked key is the one stored for this URL, wherever it sat before (rows may have
        // moved); a URL that is new was edited in place, so it keeps the key of its position.
        const moved = currentUrls.indexOf(urls[Number(k)] ?? '');
        const old = stored[moved >= 0 ? String(moved) : k]?.key;
        if (old === undefined) delete entry.key;
        else entry.key = old;
      }
      next[k] = entry;
    }
    if (!same(next, stored)) changes.push({ key: 'ollamaApiConfigs', value: next });
  }

  changes.sort((a, b) => Number(config.isManaged(b.key)) - Number(config.isManaged(a.key)));
  for (const c of changes) {
    // The config store validates and refuses managed settings with 409.
    await config.set(c.key, c.value as never);
  }
  return viewOllamaConfig(config);
}
