import { Router } from '@koa/router';
import { z } from 'zod';
import {
  type ChatRow,
  deleteChat,
  findChat,
  insertChat,
  listChats,
  toUnixSeconds,
  updateChat,
} from '../../db/chats.ts';
import { notFound } from '../http-error.ts';
import type { RouteRegistry } from '../openapi/registry.ts';
import { True } from '../openapi/responses.ts';
import { routeBinder } from '../openapi/route.ts';
import type { Services } from '../services.ts';
import type { AppState } from '../types.ts';

/** Open WebUI's chat document: title, models and messages, plus whatever else the client keeps. */
const ChatDocument = z.looseObject({
  title: z.string().max(1000).optional(),
  models: z.array(z.string()).optional(),
  messages: z.array(z.unknown()).optional(),
});
export const ChatForm = z.object({ chat: ChatDocument });

const DEFAULT_TITLE = 'New Chat';
/** Chats carry whole conversations (and pasted images), so they may be larger than other bodies. */
const CHAT_BODY_LIMIT = 16 * 1024 * 1024;

/** Open WebUI's ChatResponse. */
const ChatResponse = z.object({
  id: z.string(),
  user_id: z.string(),
  title: z.string(),
  chat: z.unknown(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});
/** One row of the chat list (the chat itself is fetched on opening). */
const ChatListItem = z.object({
  id: z.string(),
  title: z.string(),
  updated_at: z.number().int(),
  created_at: z.number().int(),
});

function chatJson(row: ChatRow): z.infer<typeof ChatResponse> {
  return {
    id: row.id,
    user_id: row.userId,
    title: row.title,
    chat: JSON.parse(row.chat) as unknown,
    created_at: toUnixSeconds(row.createdAt),
    updated_at: toUnixSeconds(row.updatedAt),
  };
}

const userId = (state: AppState) => state.user?.id ?? '';

/** Each user's own chats; another user's chat id is a 404, never a 403 that confirms it exists. */
export function chatsRouter(svc: Services, registry: RouteRegistry): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/chats' });
  const route = routeBinder(router, registry, { prefix: '/api/v1/chats', tag: 'chats' });

  async function own(state: AppState, id: string): Promise<ChatRow> {
    const row = await findChat(svc.em(), userId(state), id);
    if (row === null) throw notFound('Chat not found');
    return row;
  }

  route(
    {
      method: 'get',
      path: '/',
      summary: 'My chats, newest first',
      access: 'verified',
      response: { json: z.array(ChatListItem) },
    },
    async (ctx) =>
      (await listChats(svc.em(), userId(ctx.state))).map((r) => ({
        id: r.id,
        title: r.title,
        updated_at: toUnixSeconds(r.updatedAt),
        created_at: toUnixSeconds(r.createdAt),
      })),
  );

  route(
    {
      method: 'post',
      path: '/new',
      summary: 'Create a chat',
      access: 'verified',
      response: { json: ChatResponse },
      body: ChatForm,
      bodyLimit: CHAT_BODY_LIMIT,
    },
    async (ctx, form) =>
      chatJson(
        await insertChat(svc.em(), userId(ctx.state), form.chat.title?.trim() || DEFAULT_TITLE, form.chat),
      ),
  );

  route(
    {
      method: 'get',
      path: '/:id',
      summary: 'One of my chats',
      access: 'verified',
      response: { json: ChatResponse },
    },
    async (ctx) => chatJson(await own(ctx.state, String(ctx.params.id))),
  );

  route(
    {
      method: 'post',
      path: '/:id',
      summary: 'Update or rename a chat (title comes from chat.title)',
      access: 'verified',
      response: { json: ChatResponse },
      body: ChatForm,
      bodyLimit: CHAT_BODY_LIMIT,
    },
    async (ctx, form) => {
      const em = svc.em();
      const row = await findChat(em, userId(ctx.state), String(ctx.params.id));
      if (row === null) throw notFound('Chat not found');
      const previous = JSON.parse(row.chat) as Record<string, unknown>;
      const merged = { ...previous, ...form.chat };
      const title =
        typeof merged.title === 'string' && merged.title.trim() !== '' ? merged.title.trim() : row.title;
      return chatJson(await updateChat(em, row, title, merged));
    },
  );

  route(
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete one of my chats',
      access: 'verified',
      response: { json: True },
    },
    async (ctx) => {
      const em = svc.em();
      const row = await findChat(em, userId(ctx.state), String(ctx.params.id));
      if (row === null) throw notFound('Chat not found');
      await deleteChat(em, row);
      return true as const;
    },
  );

  return router;
}
