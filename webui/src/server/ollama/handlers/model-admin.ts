import type { RuntimeConfig } from '../../../config/runtime-config.ts';
import type { ConnectionChoice } from '../connection-choice.ts';
import { bodyForConnection, upstreamModelName } from '../connection-models.ts';
import { currentConnections } from '../connections.ts';
import { type ModelRegistry, normalizeModelName } from '../model-registry.ts';
import type { OllamaContext, OllamaHandlers } from '../route-table.ts';
import { clientSignal, type UpstreamCalls } from '../upstream-calls.ts';

/** `/api/show`, `/api/delete`, `/api/pull`, ... accept `model` or the older `name`; the schema requires one. */
const modelOf = (body: { model?: string; name?: string }) => (body.model ?? body.name) as string;

/**
 * Model management (admins): pull, create and push stream Ollama's progress
 * from connection 0 or `url_idx`; delete and copy go where the model is and
 * answer `true`; unload empties every connection that holds the model. Each
 * drops the cached model list, since the models changed.
 */
export function modelAdminHandlers(deps: {
  config: RuntimeConfig;
  registry: ModelRegistry;
  choice: ConnectionChoice;
  calls: UpstreamCalls;
}): OllamaHandlers<'pull' | 'create' | 'push' | 'delete' | 'copy' | 'unload'> {
  const { config, registry, choice, calls } = deps;

  /** The model list changes when the stream ends, not when it starts. */
  const invalidateWhenDone = (ctx: OllamaContext) => {
    registry.invalidate();
    ctx.res.once('close', () => registry.invalidate());
  };

  const progress = (ctx: OllamaContext, path: string, body: { stream?: boolean | undefined }) =>
    calls.forward(ctx, choice.indexedOrFirst(ctx), path, body, {
      streaming: body.stream !== false,
      errorFormat: 'ndjson',
    });

  return {
    async pull(ctx, body) {
      await progress(ctx, '/api/pull', body);
      invalidateWhenDone(ctx);
    },
    async create(ctx, body) {
      await progress(ctx, '/api/create', body);
      invalidateWhenDone(ctx);
    },
    async push(ctx, body) {
      await progress(ctx, '/api/push', body);
    },

    async delete(ctx, body) {
      const conn = await choice.forModel(ctx, modelOf(body));
      await calls.confirm(ctx, conn, 'DELETE', '/api/delete', bodyForConnection(conn, body));
      registry.invalidate();
      // Ollama answers with an empty 200; Open WebUI clients expect `true`.
      return true;
    },
    async copy(ctx, body) {
      const conn = await choice.forModel(ctx, body.source);
      await calls.confirm(ctx, conn, 'POST', '/api/copy', bodyForConnection(conn, body));
      registry.invalidate();
      return true;
    },

    async unload(ctx, body) {
      const model = normalizeModelName(modelOf(body));
      const hosts = await registry.hosts(currentConnections(config), model);
      const signal = clientSignal(ctx);
      // Ollama unloads on an empty generate with keep_alive 0; every host that has the model may hold it.
      await Promise.all(
        hosts.map((conn) =>
          calls.post(
            conn,
            '/api/generate',
            { model: upstreamModelName(conn, model), keep_alive: 0, prompt: '' },
            signal,
          ),
        ),
      );
      return { status: true };
    },
  };
}
