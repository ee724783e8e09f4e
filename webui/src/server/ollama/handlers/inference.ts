import type { ConnectionChoice } from '../connection-choice.ts';
import { bodyForConnection } from '../connection-models.ts';
import { normalizeModelName } from '../model-registry.ts';
import type { OllamaContext, OllamaHandlers } from '../route-table.ts';
import type { Framing, UpstreamCalls } from '../upstream-calls.ts';

type InferenceId = 'chat' | 'generate' | 'show' | 'embed' | 'embeddings' | 'openaiChat' | 'openaiCompletions';

/** What every inference body has in common, as its schema (schemas.ts) leaves it. */
interface ModelBody {
  model?: string;
  /** `/api/show` still accepts the older `name`. */
  name?: string;
  stream?: boolean | undefined;
}

/** One model-bound call, passed through to the connection that has the model. */
interface Inference {
  /** Ollama's path for it. */
  upstream: string;
  /** Whether the answer streams: Ollama's routes unless `stream` is false, OpenAI's only when it is true. */
  streams: (body: ModelBody) => boolean;
  /** The shape of the record that ends a stream cut short. */
  errorFormat: Framing['errorFormat'];
  /** Sent upstream as it came, model name untouched (Ollama resolves `/api/show`'s name itself). */
  asSent?: true;
}

const ollamaStreams = (body: ModelBody) => body.stream !== false;
// OpenAI's stream flag defaults to false.
const openaiStreams = (body: ModelBody) => body.stream === true;
const never = () => false;

const INFERENCE: Record<InferenceId, Inference> = {
  chat: { upstream: '/api/chat', streams: ollamaStreams, errorFormat: 'ndjson' },
  generate: { upstream: '/api/generate', streams: ollamaStreams, errorFormat: 'ndjson' },
  show: { upstream: '/api/show', streams: never, errorFormat: 'ndjson', asSent: true },
  embed: { upstream: '/api/embed', streams: never, errorFormat: 'ndjson' },
  embeddings: { upstream: '/api/embeddings', streams: never, errorFormat: 'ndjson' },
  openaiChat: { upstream: '/v1/chat/completions', streams: openaiStreams, errorFormat: 'sse' },
  openaiCompletions: { upstream: '/v1/completions', streams: openaiStreams, errorFormat: 'sse' },
};

type ModelHandler = (ctx: OllamaContext, body: ModelBody) => Promise<undefined>;

/**
 * Chat, completions, embeddings and model details, all one way: pick the
 * connection for the model (or `url_idx`), send the body there with the model
 * named as that connection knows it, and relay the answer as it arrives.
 */
export function inferenceHandlers(deps: {
  choice: ConnectionChoice;
  calls: UpstreamCalls;
}): OllamaHandlers<InferenceId> {
  const { choice, calls } = deps;

  const proxyTo =
    (route: Inference): ModelHandler =>
    async (ctx, body) => {
      // Every inference schema requires `model`, except /api/show's, which requires one of the two.
      const model = (body.model ?? body.name) as string;
      const upstreamBody = route.asSent ? body : { ...body, model: normalizeModelName(model) };
      const streaming = route.streams(body);
      const framing: Framing = { streaming, errorFormat: route.errorFormat };
      const conn = await choice.forModel(ctx, model);
      await calls.forward(ctx, conn, route.upstream, bodyForConnection(conn, upstreamBody), framing);
      return undefined;
    };

  // One handler per row; the return type checks that ModelBody fits every route's schema.
  const handlers = {} as Record<InferenceId, ModelHandler>;
  for (const id of Object.keys(INFERENCE) as InferenceId[]) handlers[id] = proxyTo(INFERENCE[id]);
  return handlers;
}
