import { Router } from '@koa/router';
import { z } from 'zod';
import { USER_ROLES } from '../../contract/env.ts';
import { countUsers } from '../../db/users.ts';
import { isSignupOpen } from '../auth/signup-state.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Services } from '../services.ts';
import type { AppState } from '../types.ts';

/** Open WebUI's /api/config fields that we fill; more appear as the caller's role allows. */
const PublicConfig = z.object({
  status: z.literal(true),
  name: z.string(),
  version: z.string(),
  default_locale: z.string(),
  oauth: z.object({ providers: z.record(z.string(), z.string()) }),
  features: z.object({
    auth: z.boolean(),
    auth_trusted_header: z.boolean(),
    enable_ldap: z.boolean(),
    enable_api_keys: z.boolean(),
    enable_signup: z.boolean(),
    enable_login_form: z.boolean(),
    enable_signup_password_confirmation: z.boolean(),
    enable_websocket: z.boolean(),
  }),
  /** Anonymous, and no account exists yet: the page offers to create the admin. */
  onboarding: z.literal(true).optional(),
  user_count: z.number().int().optional(),
  ollama: z.object({ enabled: z.boolean() }).optional(),
  admin: z
    .object({
      default_user_role: z.enum(USER_ROLES),
      show_admin_details: z.boolean(),
      managed: z.array(z.string()),
      persistent_config: z.boolean(),
    })
    .optional(),
});

const Version = z.object({ version: z.string(), deployment_id: z.string() });

/**
 * GET /api/config (public, what the login page decides from), /api/version,
 * and /openapi.json. A bad or stale token on /api/config is treated as
 * anonymous instead of breaking the page (Open WebUI answers 401 there).
 */
export function systemRouter(svc: Services, registry: RouteRegistry): Router<AppState> {
  const router = new Router<AppState>();
  const route = routeBinder(router, registry, { prefix: '', tag: 'system' });

  route(
    {
      method: 'get',
      path: '/api/config',
      summary: 'Public configuration for the frontend',
      access: 'public',
      response: { json: PublicConfig },
    },
    async (ctx) => {
      const em = svc.em();
      const user = ctx.state.user;
      const userCount = await countUsers(em);
      const c = svc.config;
      const body: z.input<typeof PublicConfig> = {
        status: true,
        name: svc.env.webuiName,
        version: svc.version,
        default_locale: '',
        oauth: { providers: {} },
        features: {
          auth: true,
          auth_trusted_header: false,
          enable_ldap: false,
          enable_api_keys: false,
          enable_signup: await isSignupOpen(svc, em),
          enable_login_form: c.get('enableLoginForm'),
          enable_signup_password_confirmation: false,
          enable_websocket: false,
        },
      };
      if (user === undefined && userCount === 0) body.onboarding = true;
      if (user?.role === 'user' || user?.role === 'admin') {
        body.user_count = userCount;
        body.ollama = { enabled: c.get('enableOllamaApi') };
      }
      if (user?.role === 'admin') {
        body.admin = {
          default_user_role: c.get('defaultUserRole'),
          show_admin_details: c.get('showAdminDetails'),
          managed: c.managedEnvNames(),
          persistent_config: c.persistent,
        };
      }
      return body;
    },
  );

  route(
    {
      method: 'get',
      path: '/api/version',
      summary: 'Server version',
      access: 'public',
      response: { json: Version },
    },
    async () => ({ version: svc.version, deployment_id: svc.deploymentId }),
  );

  route(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This document',
      access: 'public',
      response: { json: z.record(z.string(), z.unknown()) },
    },
    async () => registry.document({ title: `${svc.env.webuiName} API`, version: svc.version }),
  );

  return router;
}
