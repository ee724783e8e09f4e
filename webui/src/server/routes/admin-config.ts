import { z } from 'zod';
import { SETTING_SOURCES, type SettingSource } from '../../config/runtime-config.ts';
import { DURATION_PATTERN, USER_ROLES } from '../../contract/env.ts';
import { lastAppliedReset } from '../../db/config-entries.ts';
import { isSignupOpen } from '../auth/signup-state.ts';
import type { BindRoute } from '../openapi/route.ts';
import type { Services } from '../services.ts';

/**
 * An http(s) URL with a host name (its last label starts with a letter, so
 * it cannot be read as an IPv4 number) or a dotted IPv4 address, an optional
 * port and path. Written out so /openapi.json states it, in the subset of
 * regex syntax that means the same in JavaScript and Python ([0-9], not \d).
 */
const WEBUI_URL_PATTERN =
  /^https?:\/\/(([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*|((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9]))(:[0-9]{1,4})?(\/[^\s\uFEFF]*)?$/;

/** The admin settings this endpoint owns, by Open WebUI field name. */
export const AdminConfigForm = z.object({
  SHOW_ADMIN_DETAILS: z.boolean().optional(),
  ENABLE_SIGNUP: z.boolean().optional(),
  ENABLE_LOGIN_FORM: z.boolean().optional(),
  DEFAULT_USER_ROLE: z.enum(USER_ROLES).optional(),
  JWT_EXPIRES_IN: z
    .string()
    .trim()
    .regex(DURATION_PATTERN, 'expected a duration such as 4w, 12h or 1h30m (-1: the longest, 365 days)')
    .optional(),
  WEBUI_URL: z
    .string()
    .trim()
    .regex(WEBUI_URL_PATTERN, 'expected an http(s) URL such as https://chat.example.com')
    .refine((v) => URL.canParse(v), 'expected an http(s) URL such as https://chat.example.com')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
});

/** The admin settings with where each value comes from, the managed ones, and the last config reset. */
const AdminConfigResponse = z.object({
  SHOW_ADMIN_DETAILS: z.boolean(),
  ENABLE_SIGNUP: z.boolean(),
  ENABLE_LOGIN_FORM: z.boolean(),
  DEFAULT_USER_ROLE: z.enum(USER_ROLES),
  JWT_EXPIRES_IN: z.string(),
  WEBUI_URL: z.string(),
  ENABLE_PERSISTENT_CONFIG: z.boolean(),
  MANAGED: z.array(z.string()),
  SOURCES: z.record(z.string(), z.enum(SETTING_SOURCES)),
  CONFIG_RESET: z.object({ token: z.string(), applied_at: z.number() }).nullable(),
});

/**
 * GET/POST /api/v1/auths/admin/config: the admin settings with their
 * sources, the managed ones, and the last config reset. Only changed values
 * are written; a managed one is 409, an invalid one 400, and nothing is
 * written unless every change is allowed.
 */
export function adminConfigRoutes(route: BindRoute, svc: Services): void {
  async function adminConfig() {
    const em = svc.em();
    const c = svc.config;
    const reset = await lastAppliedReset(em);
    const fields = {
      SHOW_ADMIN_DETAILS: 'showAdminDetails',
      ENABLE_SIGNUP: 'enableSignup',
      ENABLE_LOGIN_FORM: 'enableLoginForm',
      DEFAULT_USER_ROLE: 'defaultUserRole',
      JWT_EXPIRES_IN: 'jwtExpiresIn',
      WEBUI_URL: 'webuiUrl',
    } as const;
    const sources: Record<string, SettingSource> = {};
    for (const [envName, key] of Object.entries(fields)) sources[envName] = c.source(key);
    return {
      SHOW_ADMIN_DETAILS: c.get('showAdminDetails'),
      ENABLE_SIGNUP: await isSignupOpen(svc, em),
      ENABLE_LOGIN_FORM: c.get('enableLoginForm'),
      DEFAULT_USER_ROLE: c.get('defaultUserRole'),
      JWT_EXPIRES_IN: c.get('jwtExpiresIn'),
      WEBUI_URL: c.get('webuiUrl'),
      ENABLE_PERSISTENT_CONFIG: c.persistent,
      MANAGED: c.managedEnvNames(),
      SOURCES: sources,
      CONFIG_RESET: reset ? { token: reset.token, applied_at: reset.appliedAt } : null,
    };
  }

  route(
    {
      method: 'get',
      path: '/admin/config',
      summary: 'Admin settings, their sources and managed settings',
      access: 'admin',
      response: { json: AdminConfigResponse },
    },
    () => adminConfig(),
  );

  route(
    {
      method: 'post',
      path: '/admin/config',
      summary: 'Change admin settings (managed settings: 409)',
      access: 'admin',
      response: { json: AdminConfigResponse },
      body: AdminConfigForm,
      invalidStatus: 400,
    },
    async (_ctx, form) => {
      const em = svc.em();
      const c = svc.config;
      // Only values that differ from the current ones are written, so posting
      // the whole form back does not freeze every setting at its env value.
      const changes: Array<() => Promise<void>> = [];
      const plan = <K extends Parameters<typeof c.set>[0]>(
        key: K,
        value: Parameters<typeof c.set<K>>[1] | undefined,
        current: unknown,
      ) => {
        if (value === undefined || JSON.stringify(value) === JSON.stringify(current)) return;
        c.assertWritable(key, value);
        changes.push(() => c.set(key, value));
      };
      plan('showAdminDetails', form.SHOW_ADMIN_DETAILS, c.get('showAdminDetails'));
      plan('enableSignup', form.ENABLE_SIGNUP, await isSignupOpen(svc, em));
      plan('enableLoginForm', form.ENABLE_LOGIN_FORM, c.get('enableLoginForm'));
      plan('defaultUserRole', form.DEFAULT_USER_ROLE, c.get('defaultUserRole'));
      plan('jwtExpiresIn', form.JWT_EXPIRES_IN, c.get('jwtExpiresIn'));
      plan('webuiUrl', form.WEBUI_URL, c.get('webuiUrl'));
      for (const apply of changes) await apply();
      return adminConfig();
    },
  );
}
