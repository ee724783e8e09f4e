/** Hash routes, so any static file server (and the Koa SPA fallback) serves one index.html. */

export const SETTINGS_SECTIONS = ['connections', 'authentication', 'users', 'account'] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

export type Route = { view: 'chat'; chatId: string | null } | { view: 'settings'; section: SettingsSection };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'settings') {
    const section = SETTINGS_SECTIONS.find((s) => s === parts[1]);
    return { view: 'settings', section: section ?? 'account' };
  }
  if (parts[0] === 'c' && parts[1]) return { view: 'chat', chatId: parts[1] };
  return { view: 'chat', chatId: null };
}

export function chatHref(id: string | null): string {
  return id ? `#/c/${encodeURIComponent(id)}` : '#/';
}

export function settingsHref(section: SettingsSection): string {
  return `#/settings/${section}`;
}
