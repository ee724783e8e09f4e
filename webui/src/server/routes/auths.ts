import { Router } from '@koa/router';
import type { EntityManager } from '@mikro-orm/sql';
import type { Context } from 'koa';
import { z } from 'zod';
import { USER_ROLES, type UserRole } from '../../contract/env.ts';
import { ACCOUNTS_LOCK, inLockedTransaction } from '../../db/locks.ts';
import {
  countUsers,
  endSessions,
  findUserByEmail,
  findUserById,
  firstAdmin,
  insertUser,
  isUniqueViolation,
  touchUser,
  type UserRow,
} from '../../db/users.ts';
import { clientIp } from '../auth/client-ip.ts';
import { burnVerify, hashPassword, verifyPassword } from '../auth/password.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import {
  clearTokenCookie,
  cookiePath,
  SessionUserResponse,
  sessionResponse,
  startSession,
} from '../auth/session.ts';
import { roleForNewAccount } from '../auth/signup-policy.ts';
import { isSignupOpen } from '../auth/signup-state.ts';
import { badRequest, forbidden, tooManyRequests, unauthorized } from '../http-error.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { StatusTrue, True } from '../openapi/responses.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Services } from '../services.ts';
import type { AppState } from '../types.ts';
import { displayName, email, newPassword, profileImageUrl } from './account-fields.ts';
import { adminConfigRoutes } from './admin-config.ts';

/** The account fields answered by profile updates and admin-created accounts. */
const Account = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  profile_image_url: z.string(),
});
/** Whom a pending user should ask; null before any admin exists. */
const AdminDetails = z.object({ name: z.string().nullable(), email: z.string().nullable() });

function accountJson(user: UserRow): z.infer<typeof Account> {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role as UserRole,
    profile_image_url: user.profileImageUrl,
  };
}

export const SignupForm = z.object({
  name: displayName,
  email,
  password: newPassword,
  profile_image_url: profileImageUrl.optional(),
});
export const SigninForm = z.object({ email, password: z.string().min(1).max(256) });
export const PasswordUpdateForm = z.object({
  password: z.string().min(1).max(256),
  new_password: newPassword,
});
export const ProfileUpdateForm = z.object({
  name: displayName,
  profile_image_url: profileImageUrl.optional(),
});
export const AddUserForm = SignupForm.extend({ role: z.enum(USER_ROLES).default('pending') });

const SIGNUP_CLOSED = 'Sign-up is disabled on this instance. Ask an administrator for an account.';
const INVALID_CRED =
  'The email or password provided is incorrect. Please check for typos and try logging in again.';
const EMAIL_TAKEN =
  'Uh-oh! This email is already registered. Sign in with your existing account or choose another email to start anew.';
const DEFAULT_AVATAR = '/user.png';

/**
 * Open sign-up: at most this many attempts per client address per window,
 * counted in the database like the sign-in limits, so replicas share it.
 * Each attempt costs an argon2 hash and may add an account.
 */
export const SIGNUP_WINDOW_MS = 600_000;
export const SIGNUP_PER_CLIENT = 10;

export function authsRouter(svc: Services, registry: RouteRegistry): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/auths' });
  const route = routeBinder(router, registry, { prefix: '/api/v1/auths', tag: 'auths' });
  const signupLimit = new RateLimiter({
    scope: 'signup',
    limit: SIGNUP_PER_CLIENT,
    windowMs: SIGNUP_WINDOW_MS,
    em: () => svc.em(),
  });
  const clientOf = (ctx: Context) =>
    clientIp(ctx.request.socket.remoteAddress ?? '', ctx.get('x-forwarded-for'), svc.env.forwardedAllowIps);

  async function createAccount(
    em: EntityManager,
    form: z.output<typeof SignupForm>,
    role: (userCount: number) => UserRole,
    gate: (tx: EntityManager) => Promise<void> = async () => undefined,
  ): Promise<{ user: UserRow; wasFirst: boolean }> {
    // Hash outside the critical section: it is the slow part.
    const passwordHash = await hashPassword(form.password);
    // One account at a time on every replica (db/locks.ts): the gate and the count see every account
    // committed before, so exactly one first account becomes admin, and nobody gets past the close.
    const created = await inLockedTransaction(em, ACCOUNTS_LOCK, async (tx) => {
      await gate(tx);
      if (await findUserByEmail(tx, form.email)) throw badRequest(EMAIL_TAKEN);
      const userCount = await countUsers(tx);
      const user = await insertUser(tx, {
        email: form.email,
        name: form.name,
        role: role(userCount),
        passwordHash,
        profileImageUrl: form.profile_image_url ?? DEFAULT_AVATAR,
      });
      return { user, wasFirst: userCount === 0 };
    }).catch((err: unknown) => {
      // Backstop: every writer of emails checks under the lock, so this should not happen.
      throw isUniqueViolation(err) ? badRequest(EMAIL_TAKEN) : err;
    });
    if (created.wasFirst) {
      // Open WebUI's flip: once the admin exists, public signup closes, and that is saved. Written after
      // the commit (the config store has its own connection); until then the user count keeps it closed.
      await svc.config.setSystem('enableSignup', false);
      svc.logger.info(
        { userId: created.user.id },
        'first account created as admin; public signup is now closed',
      );
    }
    return created;
  }

  route(
    {
      method: 'post',
      path: '/signup',
      summary: 'Create an account (the first becomes admin)',
      access: 'public',
      response: { json: SessionUserResponse },
      body: SignupForm,
    },
    async (ctx, form) => {
      const em = svc.em();
      // Checked before hashing (cheap refusal) and again inside the critical section.
      const gate = async (db: EntityManager) => {
        if (!(await isSignupOpen(svc, db))) throw forbidden(SIGNUP_CLOSED);
      };
      await gate(em);
      const wait = await signupLimit.hit(clientOf(ctx));
      if (wait > 0) throw tooManyRequests(`Too many sign-ups. Try again in ${wait} seconds.`, wait);
      const { user } = await createAccount(
        em,
        form,
        (n) => roleForNewAccount(n, svc.config.get('defaultUserRole')),
        gate,
      );
      return startSession(ctx, svc, user);
    },
  );

  route(
    {
      method: 'post',
      path: '/signin',
      summary: 'Sign in with email and password',
      access: 'public',
      response: { json: SessionUserResponse },
      body: SigninForm,
    },
    async (ctx, form) => {
      const waitEmail = await svc.signinLimits.byEmail.hit(form.email);
      const waitClient = await svc.signinLimits.byClient.hit(clientOf(ctx));
      const wait = Math.max(waitEmail, waitClient);
      if (wait > 0) throw tooManyRequests(`Too many sign-in attempts. Try again in ${wait} seconds.`, wait);
      const em = svc.em();
      const user = await findUserByEmail(em, form.email);
      if (user === null) {
        await burnVerify(form.password);
        throw badRequest(INVALID_CRED);
      }
      if (!(await verifyPassword(user.passwordHash, form.password))) throw badRequest(INVALID_CRED);
      await touchUser(em, user);
      return startSession(ctx, svc, user);
    },
  );

  route(
    {
      method: 'get',
      path: '/',
      summary: 'The signed-in session user',
      access: 'signedIn',
      response: { json: SessionUserResponse },
    },
    async (ctx) => {
      const session = ctx.state.session;
      const user = await findUserById(svc.em(), ctx.state.user?.id ?? '');
      if (session === undefined || user === null) throw unauthorized();
      return sessionResponse(user, session.token, session.expiresAt);
    },
  );

  route(
    {
      method: 'post',
      path: '/update/password',
      summary: 'Change my password',
      access: 'signedIn',
      response: { json: True },
      body: PasswordUpdateForm,
    },
    async (ctx, form) => {
      const em = svc.em();
      const user = await findUserById(em, ctx.state.user?.id ?? '');
      if (user === null) throw unauthorized();
      if (!(await verifyPassword(user.passwordHash, form.password)))
        throw badRequest('The current password is incorrect.');
      user.passwordHash = await hashPassword(form.new_password);
      // Every token issued so far stops working (a thief's too); this browser gets a new cookie.
      endSessions(user);
      await em.flush();
      startSession(ctx, svc, user);
      return true as const;
    },
  );

  route(
    {
      method: 'post',
      path: '/update/profile',
      summary: 'Change my name or picture',
      access: 'signedIn',
      response: { json: Account },
      body: ProfileUpdateForm,
    },
    async (ctx, form) => {
      const em = svc.em();
      const user = await findUserById(em, ctx.state.user?.id ?? '');
      if (user === null) throw unauthorized();
      user.name = form.name;
      if (form.profile_image_url !== undefined) user.profileImageUrl = form.profile_image_url;
      user.updatedAt = Math.floor(Date.now() / 1000);
      await em.flush();
      return accountJson(user);
    },
  );

  route(
    // POST, so that a cross-site <img> or link cannot sign anyone out.
    {
      method: 'post',
      path: '/signout',
      summary: 'Sign out (clears the token cookie)',
      access: 'public',
      response: { json: StatusTrue },
    },
    async (ctx) => {
      // A token copied elsewhere must stop working too: end the account's sessions, not just this cookie.
      const signedIn = ctx.state.user;
      if (signedIn !== undefined) {
        const em = svc.em();
        const user = await findUserById(em, signedIn.id);
        if (user !== null) {
          endSessions(user);
          await em.flush();
        }
      }
      clearTokenCookie(ctx, cookiePath(ctx, svc));
      return { status: true as const };
    },
  );

  route(
    {
      method: 'post',
      path: '/add',
      summary: 'Create an account as an admin (works while signup is closed)',
      access: 'admin',
      response: { json: Account },
      body: AddUserForm,
    },
    async (ctx, form) => {
      // Still an admin? Another replica's session cache may hold a demoted admin's role for up to a second.
      const stillAdmin = async (tx: EntityManager) => {
        if ((await findUserById(tx, ctx.state.user?.id ?? ''))?.role !== 'admin') throw forbidden();
      };
      const { user } = await createAccount(svc.em(), form, () => form.role, stillAdmin);
      return accountJson(user);
    },
  );

  route(
    {
      method: 'get',
      path: '/admin/details',
      summary: "The admin's name and email, for pending users",
      access: 'signedIn',
      response: { json: AdminDetails },
    },
    async () => {
      if (!svc.config.get('showAdminDetails'))
        throw badRequest('Admin details are hidden on this instance (SHOW_ADMIN_DETAILS=false).');
      const admin = await firstAdmin(svc.em());
      return admin ? { name: admin.name, email: admin.email } : { name: null, email: null };
    },
  );

  adminConfigRoutes(route, svc);

  return router;
}
