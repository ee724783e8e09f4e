/**
 * Which settings the deployment manages, read from an admin config response.
 * Our server sends `MANAGED`, a list of env names, on both
 * /api/v1/auths/admin/config and /ollama/config; a `{NAME: true}` map is read too.
 */
export function managedNames(config: unknown): Set<string> {
  const names = new Set<string>();
  if (!config || typeof config !== 'object') return names;
  const o = config as Record<string, unknown>;
  for (const key of ['MANAGED', 'MANAGED_SETTINGS', 'managed']) {
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
