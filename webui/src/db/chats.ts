import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { ChatEntity, type ChatRow } from './entities.ts';

export type { ChatRow };

const now = () => Math.floor(Date.now() / 1000);

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
  row.updatedAt = now();
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
