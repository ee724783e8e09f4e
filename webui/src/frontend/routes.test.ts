import { describe, expect, it } from 'vitest';
import { managedNames } from './managed.ts';
import { chatHref, parseRoute, settingsHref } from './routes.ts';
import { cleanUrls } from './urls.ts';

describe('routes', () => {
  it('parses chat and settings hashes and round-trips hrefs', () => {
    expect(parseRoute('')).toEqual({ view: 'chat', chatId: null });
    expect(parseRoute(chatHref('a b/c'))).toEqual({ view: 'chat', chatId: 'a b/c' });
    expect(parseRoute(settingsHref('users'))).toEqual({ view: 'settings', section: 'users' });
    expect(parseRoute('#/settings/nope')).toEqual({ view: 'settings', section: 'account' });
  });
});

describe('cleanUrls', () => {
  it('trims, strips trailing slashes and drops empty rows', () => {
    expect(cleanUrls([' http://a:11434/ ', '', 'http://b//'])).toEqual(['http://a:11434', 'http://b']);
  });
});

describe('managedNames', () => {
  it('reads a list or a map of managed settings and ignores other shapes', () => {
    expect([...managedNames({ MANAGED: ['DEFAULT_USER_ROLE'] })]).toEqual(['DEFAULT_USER_ROLE']);
    expect([...managedNames({ managed: { ENABLE_SIGNUP: true, WEBUI_URL: false } })]).toEqual([
      'ENABLE_SIGNUP',
    ]);
    expect(managedNames({ MANAGED: 'x' }).size).toBe(0);
    expect(managedNames(null).size).toBe(0);
  });
});
