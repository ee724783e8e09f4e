import { z } from 'zod';
import { parseDurationMs, USER_ROLES } from '../../contract/env.ts';
import { lastAppliedReset } from '../../db/config-entries.ts';
import { isSignupOpen } from '../auth/signup-state.ts';
import type { BindRoute } from '../openapi/route.ts';
import type { Services } from '../services.ts';

/** The admin settings this endpoint owns, by Open WebUI field name. */
export const AdminConfigForm = z.object({
  SHOW_ADMIN_DETAILS: z.boolean().optional(),
  ENABLE_SIGNUP: z.boolean().optional(),
  ENABLE_LOGIN_FORM: z.boolean().optional(),
  DEFAULT_USER_ROLE: z.enum(USER_ROLES).optional(),
  JWT_EXPIRES_IN: z
    .string()
    .trim()
    .refine((v) => {
      try {
        parseDurationMs(v);
        return true;
      } catch {
        return false;
      }
    }, 'expected a duration such as 4w, 12h or 1h30m (or -1 for no expiry)')
    .optional(),
  WEBUI_URL: z
    .string()
    .trim()
    .refine(
      (v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v),
      'expected an http(s) URL such as https://chat.example.com',
    )
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
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
    const sources: Record<string, string> = {};
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
    },
    () => adminConfig(),
  );

  route(
    {
      method: 'post',
      path: '/admin/config',
      summary: 'Change admin settings (managed settings: 409)',
      access: 'admin',
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
