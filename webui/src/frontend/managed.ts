/**
 * Which settings the deployment manages, read from an admin config response.
 * Accepts the server's `MANAGED_SETTINGS` list of env names and, for older
 * servers, a `managed` list or `{NAME: true}` map.
 */
export function managedNames(config: unknown): Set<string> {
  const names = new Set<string>();
  if (!config || typeof config !== 'object') return names;
  const o = config as Record<string, unknown>;
  for (const key of ['MANAGED_SETTINGS', 'managed_settings', 'managed']) {
    const v = o[key];
    if (Array.isArray(v)) {
      for (const n of v) if (typeof n === 'string') names.add(n);
    } else if (v && typeof v === 'object') {
      for (const [n, on] of Object.entries(v)) if (on === true) names.add(n);
    }
  }
  return names;
}

export const MANAGED_REASON =
  'Managed by the deployment (WEBUI_MANAGED_SETTINGS): change it in the WebUI resource or Helm values, not here.';
