import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * The tables, without decorators (node runs this TS by stripping types).
 * Timestamps are unix seconds, as in Open WebUI. JSON documents are stored as
 * text so SQLite and Postgres behave the same; the repositories parse them.
 * The schema itself is created by migrations.ts, not by the ORM.
 */
export const UserEntity = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.string().primary(),
    email: p.string().unique(),
    name: p.string(),
    role: p.string(),
    passwordHash: p.string(),
    profileImageUrl: p.string(),
    createdAt: p.bigint('number'),
    updatedAt: p.bigint('number'),
    lastActiveAt: p.bigint('number'),
    /**
     * Every token carries the version it was issued under (`tv`); the session
     * middleware refuses any other. Bumped by sign-out and password changes,
     * which so end every session of the account.
     */
    tokenVersion: p.integer(),
  },
});
export type UserRow = InferEntity<typeof UserEntity>;

export const ConfigEntryEntity = defineEntity({
  name: 'ConfigEntry',
  tableName: 'config',
  properties: {
    key: p.string().primary(),
    /** JSON text of the value. */
    value: p.text(),
    /** 'admin' or 'system', see config/resolve.ts. */
    origin: p.string(),
    updatedAt: p.bigint('number'),
  },
});
export type ConfigEntryRow = InferEntity<typeof ConfigEntryEntity>;

export const ConfigResetEntity = defineEntity({
  name: 'ConfigReset',
  tableName: 'config_resets',
  properties: {
    token: p.string().primary(),
    appliedAt: p.bigint('number'),
  },
});
export type ConfigResetRow = InferEntity<typeof ConfigResetEntity>;

export const ChatEntity = defineEntity({
  name: 'Chat',
  tableName: 'chats',
  properties: {
    id: p.string().primary(),
    userId: p.string().index(),
    title: p.text(),
    /** JSON text of the chat document ({title, models, messages, ...}). */
    chat: p.text(),
    /** Milliseconds (unlike the other tables), for an exact newest-first order. */
    createdAt: p.bigint('number'),
    updatedAt: p.bigint('number'),
  },
});
export type ChatRow = InferEntity<typeof ChatEntity>;

/**
 * One rate-limited attempt (sign-in per email and per client, sign-up per
 * client), kept for its window; shared by every replica on the database.
 */
export const SigninAttemptEntity = defineEntity({
  name: 'SigninAttempt',
  tableName: 'signin_attempts',
  properties: {
    id: p.string().primary(),
    /** SHA-256 of scope and key (an email or a client address): no address is stored in clear. */
    keyHash: p.string(),
    /** Milliseconds. */
    at: p.bigint('number'),
    /** Milliseconds: `at` plus the window of the limiter that recorded it; the sweep deletes by it. */
    expiresAt: p.bigint('number'),
  },
});
export type SigninAttemptRow = InferEntity<typeof SigninAttemptEntity>;

export const entities = [UserEntity, ConfigEntryEntity, ConfigResetEntity, ChatEntity, SigninAttemptEntity];
