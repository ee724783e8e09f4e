import { Router } from '@koa/router';
import type { EntityManager } from '@mikro-orm/sql';
import { z } from 'zod';
import { USER_ROLES, type UserRole } from '../../contract/env.ts';
import { deleteChatsOf } from '../../db/chats.ts';
import {
  countAdmins,
  deleteUser,
  findUserByEmail,
  findUserById,
  listUsers,
  setUserRole,
  type UserRow,
} from '../../db/users.ts';
import { hashPassword } from '../auth/password.ts';
import { badRequest, notFound } from '../http-error.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Services } from '../services.ts';
import type { AppState } from '../types.ts';

export const RoleUpdateForm = z.object({ id: z.string().min(1), role: z.enum(USER_ROLES) });
export const UserUpdateForm = z.object({
  role: z.enum(USER_ROLES).optional(),
  name: z.string().trim().min(1).max(255).optional(),
  email: z
    .string()
    .trim()
    .max(320)
    .refine((v) => /^[^@\s]+@([^@\s]+\.[^@\s]+|localhost)$/.test(v), 'Invalid email format')
    .transform((v) => v.toLowerCase())
    .optional(),
  password: z.string().min(8, 'Password must be at least 8 characters').max(256).optional(),
  profile_image_url: z.string().max(100_000).optional(),
});

/** Open WebUI's UserModel fields. */
export function userJson(u: UserRow) {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role,
    profile_image_url: u.profileImageUrl,
    last_active_at: u.lastActiveAt,
    updated_at: u.updatedAt,
    created_at: u.createdAt,
  };
}

const LAST_ADMIN = 'This is the last admin account; make another user admin first.';

async function changeRole(em: EntityManager, user: UserRow, role: UserRole): Promise<UserRow> {
  if (user.role === 'admin' && role !== 'admin' && (await countAdmins(em)) <= 1) throw badRequest(LAST_ADMIN);
  return setUserRole(em, user, role);
}

async function userOr404(em: EntityManager, id: string): Promise<UserRow> {
  const user = await findUserById(em, id);
  if (user === null) throw notFound('User not found');
  return user;
}

export function usersRouter(svc: Services, registry: RouteRegistry): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/users' });
  const route = routeBinder(router, registry, { prefix: '/api/v1/users', tag: 'users' });

  route({ method: 'get', path: '/', summary: 'List users', access: 'admin' }, async () => {
    const users = (await listUsers(svc.em())).map(userJson);
    return { users, total: users.length };
  });

  route(
    {
      method: 'post',
      path: '/update/role',
      summary: "Change a user's role (approve pending users)",
      access: 'admin',
      body: RoleUpdateForm,
    },
    async (_ctx, form) => {
      const em = svc.em();
      return userJson(await changeRole(em, await userOr404(em, form.id), form.role));
    },
  );

  route({ method: 'get', path: '/:id', summary: 'One user', access: 'admin' }, async (ctx) =>
    userJson(await userOr404(svc.em(), String(ctx.params.id))),
  );

  route(
    {
      method: 'post',
      path: '/:id/update',
      summary: 'Update a user (role, name, email, password)',
      access: 'admin',
      body: UserUpdateForm,
    },
    async (ctx, form) => {
      const em = svc.em();
      const user = await userOr404(em, String(ctx.params.id));
      if (form.email !== undefined && form.email !== user.email) {
        if (await findUserByEmail(em, form.email)) throw badRequest('This email is already registered.');
        user.email = form.email;
      }
      if (form.name !== undefined) user.name = form.name;
      if (form.profile_image_url !== undefined) user.profileImageUrl = form.profile_image_url;
      if (form.password !== undefined) user.passwordHash = await hashPassword(form.password);
      if (form.role !== undefined && form.role !== user.role)
        return userJson(await changeRole(em, user, form.role));
      user.updatedAt = Math.floor(Date.now() / 1000);
      await em.flush();
      return userJson(user);
    },
  );

  route(
    { method: 'delete', path: '/:id', summary: 'Delete a user and their chats', access: 'admin' },
    async (ctx) => {
      const em = svc.em();
      const user = await userOr404(em, String(ctx.params.id));
      if (user.id === ctx.state.user?.id) throw badRequest('You cannot delete your own account.');
      if (user.role === 'admin' && (await countAdmins(em)) <= 1) throw badRequest(LAST_ADMIN);
      await deleteChatsOf(em, user.id);
      await deleteUser(em, user);
      return true;
    },
  );

  return router;
}
