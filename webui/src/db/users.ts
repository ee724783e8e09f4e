import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import type { UserRole } from '../contract/env.ts';
import { UserEntity, type UserRow } from './entities.ts';
import { timeOrderedId } from './ids.ts';

export type { UserRow };

const now = () => Math.floor(Date.now() / 1000);

export const countUsers = (em: EntityManager) => em.count(UserEntity, {});

export const findUserById = (em: EntityManager, id: string) => em.findOne(UserEntity, { id });

/** Emails are stored lower-cased, so lookups lower-case too. */
export const findUserByEmail = (em: EntityManager, email: string) =>
  em.findOne(UserEntity, { email: email.toLowerCase() });

// created_at has one-second resolution; the time-ordered id breaks ties (Postgres returns equal rows in any order).
const OLDEST_FIRST = { createdAt: 'asc', id: 'asc' } as const;

export const listUsers = (em: EntityManager) => em.find(UserEntity, {}, { orderBy: OLDEST_FIRST });

export const countAdmins = (em: EntityManager) => em.count(UserEntity, { role: 'admin' });

/** The admin shown to pending users: the oldest admin account. */
export const firstAdmin = (em: EntityManager) =>
  em.findOne(UserEntity, { role: 'admin' }, { orderBy: OLDEST_FIRST });

export interface NewUser {
  email: string;
  name: string;
  role: UserRole;
  passwordHash: string;
  profileImageUrl: string;
}

export async function insertUser(em: EntityManager, u: NewUser): Promise<UserRow> {
  const t = now();
  const row = em.create(UserEntity, {
    id: timeOrderedId(),
    email: u.email.toLowerCase(),
    name: u.name,
    role: u.role,
    passwordHash: u.passwordHash,
    profileImageUrl: u.profileImageUrl,
    createdAt: t,
    updatedAt: t,
    lastActiveAt: t,
    tokenVersion: 0,
  });
  await em.flush();
  return row;
}

export async function setUserRole(em: EntityManager, user: UserRow, role: UserRole): Promise<UserRow> {
  user.role = role;
  user.updatedAt = now();
  await em.flush();
  return user;
}

/**
 * Ends every session of the account: tokens carry the version they were
 * issued under, and the session middleware refuses any other. The caller
 * flushes (with its other changes), which also drops the user from this
 * process's session cache (orm.ts).
 */
export function endSessions(user: UserRow): void {
  user.tokenVersion += 1;
  user.updatedAt = now();
}

/** Whether `err` is a unique constraint violation (e.g. an email taken by a concurrent request). */
export const isUniqueViolation = (err: unknown): boolean => err instanceof UniqueConstraintViolationException;

export async function touchUser(em: EntityManager, user: UserRow): Promise<void> {
  user.lastActiveAt = now();
  await em.flush();
}

export async function deleteUser(em: EntityManager, user: UserRow): Promise<void> {
  em.remove(user);
  await em.flush();
}
