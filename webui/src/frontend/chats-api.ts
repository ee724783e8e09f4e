import { api } from './api.ts';

/** One bubble. `status` is only set on answers; it is saved with the chat so a cut stays marked. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  model?: string;
  status?: 'streaming' | 'done' | 'stopped' | 'cut' | 'error';
  reason?: string;
}

/** What the client keeps in a chat (Open WebUI's chat document). */
export interface ChatDocument {
  title?: string;
  models?: string[];
  messages?: ChatMessage[];
}

/** A row of the history list. */
export interface ChatSummary {
  id: string;
  title: string;
  updated_at?: number;
  created_at?: number;
}

/** A stored chat, as the server answers it. */
export interface StoredChat {
  id: string;
  title?: string;
  chat?: ChatDocument;
}

const chatPath = (id: string) => `/api/v1/chats/${encodeURIComponent(id)}`;

/** The signed-in user's chats, newest first. */
export async function listChats(): Promise<ChatSummary[]> {
  const list = await api<ChatSummary[]>('/api/v1/chats/');
  return Array.isArray(list) ? list : [];
}

export function fetchChat(id: string): Promise<StoredChat> {
  return api<StoredChat>(chatPath(id));
}

export function createChat(chat: ChatDocument): Promise<StoredChat> {
  return api<StoredChat>('/api/v1/chats/new', { body: { chat } });
}

/** Stores `chat` over chat `id` (the server merges it into what it has). */
export async function updateChat(id: string, chat: ChatDocument): Promise<void> {
  await api(chatPath(id), { body: { chat } });
}

/** Sends the whole chat back with its new title, so a server that replaces (rather than merges) keeps the messages. */
export async function renameChat(id: string, title: string): Promise<void> {
  const stored = await fetchChat(id);
  await updateChat(id, { ...stored.chat, title });
}

export async function deleteChat(id: string): Promise<void> {
  await api(chatPath(id), { method: 'DELETE' });
}
