import type { RuntimeConfig } from '../../config/runtime-config.ts';
import { HttpError } from '../http-error.ts';
import { type Connection, connectionAt, currentConnections } from './connections.ts';
import type { ModelRegistry } from './model-registry.ts';
import type { OllamaContext } from './route-table.ts';

/**
 * Which connection a request goes to: the one its `/:url_idx` names, else,
 * for a model, one that has it (docs/ollama-proxy.md, "Choosing the
 * connection for a model"), and for model management the first.
 */
export class ConnectionChoice {
  readonly #config: RuntimeConfig;
  readonly #registry: ModelRegistry;

  constructor(config: RuntimeConfig, registry: ModelRegistry) {
    this.#config = config;
    this.#registry = registry;
  }

  /** The connection named by `url_idx`, else one that has `model`. */
  async forModel(ctx: OllamaContext, model: string): Promise<Connection> {
    const conns = currentConnections(this.#config);
    if (ctx.params.url_idx !== undefined) return connectionAt(conns, ctx.params.url_idx);
    return this.#host(conns, model);
  }

  /** The connection named by `url_idx`, else connection 0 (pull, create and push, as Open WebUI does). */
  indexedOrFirst(ctx: OllamaContext): Connection {
    return connectionAt(currentConnections(this.#config), ctx.params.url_idx ?? '0');
  }

  async #host(conns: readonly Connection[], model: string): Promise<Connection> {
    const enabled = conns.filter((c) => c.enabled);
    // One server without model settings: it is the only place the model can be; Ollama's own 404
    // says if it is not. A prefix or an allow-list needs the list to decide.
    const only = enabled.length === 1 ? (enabled[0] as Connection) : undefined;
    if (only !== undefined && only.prefixId === undefined && !only.modelIds?.length) return only;
    if (enabled.length === 0) throw new HttpError(503, 'No Ollama connection is enabled');
    return this.#registry.route(conns, model);
  }
}
