import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { ChatEntity, type ChatRow } from './entities.ts';

export type { ChatRow };

/**
 * Chat timestamps are stored in milliseconds so "newest first" is exact even
 * within one second; the API converts them to Open WebUI's unix seconds.
 */
const now = () => Date.now();
export const toUnixSeconds = (ms: number) => Math.floor(ms / 1000);

/** A user's chats, newest first. Only the summary columns are loaded. */
export const listChats = (em: EntityManager, userId: string) =>
  em.find(
    ChatEntity,
    { userId },
    { orderBy: { updatedAt: 'desc', createdAt: 'desc' }, fields: ['id', 'title', 'createdAt', 'updatedAt'] },
  );

/** Scoped to the owner: another user's chat is simply not found. */
export const findChat = (em: EntityManager, userId: string, id: string) =>
  em.findOne(ChatEntity, { id, userId });

export async function insertChat(
  em: EntityManager,
  userId: string,
  title: string,
  chat: unknown,
): Promise<ChatRow> {
  const t = now();
  const row = em.create(ChatEntity, {
    id: randomUUID(),
    userId,
    title,
    chat: JSON.stringify(chat),
    createdAt: t,
    updatedAt: t,
  });
  await em.flush();
  return row;
}

export async function updateChat(
  em: EntityManager,
  row: ChatRow,
  title: string,
  chat: unknown,
): Promise<ChatRow> {
  row.title = title;
  row.chat = JSON.stringify(chat);
  // Strictly increasing, so the edited chat sorts first even within one millisecond.
  row.updatedAt = Math.max(now(), row.updatedAt + 1);
  await em.flush();
  return row;
}

export async function deleteChat(em: EntityManager, row: ChatRow): Promise<void> {
  em.remove(row);
  await em.flush();
}

export async function deleteChatsOf(em: EntityManager, userId: string): Promise<void> {
  await em.nativeDelete(ChatEntity, { userId });
}
