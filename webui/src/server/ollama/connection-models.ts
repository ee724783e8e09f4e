/**
 * Open WebUI's per-connection model settings (OLLAMA_API_CONFIGS): a
 * `model_ids` allow-list, a `prefix_id` that renames the connection's models
 * to "<prefix>.<model>" (so two servers with the same model stay apart), and
 * `tags` / `connection_type` attached to each model. The prefix is stripped
 * again before a request goes upstream.
 */
import type { Connection } from './connections.ts';
import { normalizeModelName } from './model-registry.ts';

/** The models one connection contributes to the merged list (its /api/tags `models`), shaped by its settings. */
export function connectionModels(conn: Connection, models: unknown): unknown {
  if (!Array.isArray(models)) return models;
  const allowed =
    conn.modelIds !== undefined && conn.modelIds.length > 0
      ? new Set(conn.modelIds.map(normalizeModelName))
      : undefined;
  const out: unknown[] = [];
  for (const m of models) {
    if (typeof m !== 'object' || m === null) continue;
    const entry = m as Record<string, unknown>;
    const raw = typeof entry.model === 'string' ? entry.model : entry.name;
    if (typeof raw !== 'string') continue;
    if (allowed !== undefined && !allowed.has(normalizeModelName(raw))) continue;
    const prefixed = (v: unknown) => (typeof v === 'string' && conn.prefixId ? `${conn.prefixId}.${v}` : v);
    out.push({
      ...entry,
      ...(entry.name !== undefined ? { name: prefixed(entry.name) } : {}),
      ...(entry.model !== undefined ? { model: prefixed(entry.model) } : {}),
      ...(conn.tags !== undefined ? { tags: conn.tags } : {}),
      ...(conn.connectionType !== undefined ? { connection_type: conn.connectionType } : {}),
    });
  }
  return out;
}

/** The name to send upstream: the connection's prefix removed, if the name carries it. */
export function upstreamModelName(conn: Connection, name: string): string {
  const prefix = conn.prefixId ? `${conn.prefixId}.` : '';
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** A request body as the chosen connection knows its models: every model field without the prefix. */
export function bodyForConnection(conn: Connection, body: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  for (const field of ['model', 'name', 'source', 'destination']) {
    const v = out[field];
    if (typeof v === 'string') out[field] = upstreamModelName(conn, v);
  }
  return out;
}
