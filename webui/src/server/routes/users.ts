import { Router } from '@koa/router';
import type { EntityManager } from '@mikro-orm/sql';
import { z } from 'zod';
import { USER_ROLES, type UserRole } from '../../contract/env.ts';
import { deleteChatsOf } from '../../db/chats.ts';
import { ACCOUNTS_LOCK, inLockedTransaction } from '../../db/locks.ts';
import {
  countAdmins,
  deleteUser,
  endSessions,
  findUserByEmail,
  findUserById,
  isUniqueViolation,
  listUsers,
  setUserRole,
  type UserRow,
} from '../../db/users.ts';
import { hashPassword } from '../auth/password.ts';
import { badRequest, conflict, forbidden, notFound } from '../http-error.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { True } from '../openapi/responses.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Services } from '../services.ts';
import type { AppState } from '../types.ts';
import { displayName, email, newPassword, profileImageUrl } from './account-fields.ts';

export const RoleUpdateForm = z.object({ id: z.string().min(1), role: z.enum(USER_ROLES) });
export const UserUpdateForm = z.object({
  role: z.enum(USER_ROLES).optional(),
  name: displayName.optional(),
  email: email.optional(),
  password: newPassword.optional(),
  profile_image_url: profileImageUrl.optional(),
});

/** Open WebUI's UserModel fields. */
const UserResponse = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.enum(USER_ROLES),
  profile_image_url: z.string(),
  last_active_at: z.number().int(),
  updated_at: z.number().int(),
  created_at: z.number().int(),
});
const UserList = z.object({ users: z.array(UserResponse), total: z.number().int() });

export function userJson(u: UserRow): z.infer<typeof UserResponse> {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role as UserRole,
    profile_image_url: u.profileImageUrl,
    last_active_at: u.lastActiveAt,
    updated_at: u.updatedAt,
    created_at: u.createdAt,
  };
}

const LAST_ADMIN = 'This is the last admin account; make another user admin first.';
const EMAIL_TAKEN = 'This email is already registered.';

/**
 * Runs an admin's change to accounts under the accounts lock (db/locks.ts),
 * so that the rules below see every change committed on any replica: two
 * admins demoting each other at once on two replicas cannot both pass the
 * last-admin check. The acting admin is read again too: another replica's
 * session cache may still hold their admin role for up to a second after
 * they were demoted.
 */
function asAdmin<T>(
  em: EntityManager,
  actorId: string | undefined,
  fn: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return inLockedTransaction(em, ACCOUNTS_LOCK, async (tx) => {
    const actor = await findUserById(tx, actorId ?? '');
    if (actor?.role !== 'admin') throw forbidden();
    return fn(tx);
  });
}

/** The last admin keeps the role (inside asAdmin, so the count is current). */
async function keepAnAdmin(tx: EntityManager, user: UserRow, role: UserRole): Promise<void> {
  if (user.role === 'admin' && role !== 'admin' && (await countAdmins(tx)) <= 1) throw conflict(LAST_ADMIN);
}

async function userOr404(em: EntityManager, id: string): Promise<UserRow> {
  const user = await findUserById(em, id);
  if (user === null) throw notFound('User not found');
  return user;
}

export function usersRouter(svc: Services, registry: RouteRegistry): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/users' });
  const route = routeBinder(router, registry, { prefix: '/api/v1/users', tag: 'users' });

  route(
    { method: 'get', path: '/', summary: 'List users', access: 'admin', response: { json: UserList } },
    async () => {
      const users = (await listUsers(svc.em())).map(userJson);
      return { users, total: users.length };
    },
  );

  route(
    {
      method: 'post',
      path: '/update/role',
      summary: "Change a user's role (approve pending users)",
      access: 'admin',
      response: { json: UserResponse },
      body: RoleUpdateForm,
    },
    async (ctx, form) =>
      asAdmin(svc.em(), ctx.state.user?.id, async (tx) => {
        const user = await userOr404(tx, form.id);
        await keepAnAdmin(tx, user, form.role);
        return userJson(await setUserRole(tx, user, form.role));
      }),
  );

  route(
    { method: 'get', path: '/:id', summary: 'One user', access: 'admin', response: { json: UserResponse } },
    async (ctx) => userJson(await userOr404(svc.em(), String(ctx.params.id))),
  );

  route(
    {
      method: 'post',
      path: '/:id/update',
      summary: 'Update a user (role, name, email, password)',
      access: 'admin',
      response: { json: UserResponse },
      body: UserUpdateForm,
    },
    async (ctx, form) => {
      // Hash before taking the lock: it is the slow part.
      const passwordHash = form.password === undefined ? undefined : await hashPassword(form.password);
      try {
        return await asAdmin(svc.em(), ctx.state.user?.id, async (tx) => {
          const user = await userOr404(tx, String(ctx.params.id));
          if (form.email !== undefined && form.email !== user.email) {
            if (await findUserByEmail(tx, form.email)) throw badRequest(EMAIL_TAKEN);
            user.email = form.email;
          }
          if (form.name !== undefined) user.name = form.name;
          if (form.profile_image_url !== undefined) user.profileImageUrl = form.profile_image_url;
          if (passwordHash !== undefined) {
            user.passwordHash = passwordHash;
            // Whoever holds the user's tokens (maybe why the admin resets it) is signed out.
            endSessions(user);
          }
          if (form.role !== undefined && form.role !== user.role) {
            await keepAnAdmin(tx, user, form.role);
            user.role = form.role;
          }
          user.updatedAt = Math.floor(Date.now() / 1000);
          await tx.flush();
          return userJson(user);
        });
      } catch (err) {
        // The check above sees every email committed under the lock; this is the backstop for any writer that is not.
        if (isUniqueViolation(err)) throw badRequest(EMAIL_TAKEN);
        throw err;
      }
    },
  );

  route(
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete a user and their chats',
      access: 'admin',
      response: { json: True },
    },
    async (ctx) =>
      asAdmin(svc.em(), ctx.state.user?.id, async (tx) => {
        const user = await userOr404(tx, String(ctx.params.id));
        if (user.id === ctx.state.user?.id) throw badRequest('You cannot delete your own account.');
        if (user.role === 'admin' && (await countAdmins(tx)) <= 1) throw conflict(LAST_ADMIN);
        await deleteChatsOf(tx, user.id);
        await deleteUser(tx, user);
        return true as const;
      }),
  );

  return router;
}
