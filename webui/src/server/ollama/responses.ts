import { z } from 'zod';
import type { ResponseDoc } from '../openapi/registry.ts';
import { Relayed, StatusTrue, True } from '../openapi/responses.ts';

/**
 * What each /ollama route answers with 200, for /openapi.json. Relayed
 * answers are Ollama's own shapes, so only what we add is pinned: merged
 * lists carry `urls` (the connections that have each model) and `errors`
 * (the connections that did not answer).
 */

const UpstreamProblem = z.object({
  url_idx: z.number().int(),
  url: z.string(),
  status: z.number().int(),
  detail: z.string(),
});

/**
 * Models merged across connections, each with the connections that have it;
 * one connection (`/{url_idx}`) answers Ollama's own list, without `urls`.
 */
const ModelList = z.looseObject({
  models: z.array(
    z.looseObject({ name: z.string(), model: z.string(), urls: z.array(z.number().int()).optional() }),
  ),
  errors: z.array(UpstreamProblem).optional(),
});

const OpenAiModelList = z.looseObject({
  object: z.literal('list'),
  data: z.array(z.looseObject({ id: z.string(), urls: z.array(z.number().int()).optional() })),
  errors: z.array(UpstreamProblem).optional(),
});

export const STATUS_TRUE: ResponseDoc = { json: StatusTrue };
export const TRUE: ResponseDoc = { json: True };
export const RELAYED: ResponseDoc = { json: Relayed };
export const RELAYED_OR_NDJSON: ResponseDoc = { json: Relayed, stream: 'ndjson' };
export const RELAYED_OR_SSE: ResponseDoc = { json: Relayed, stream: 'sse' };
export const MERGED_MODELS: ResponseDoc = { json: ModelList };
export const OPENAI_MODELS: ResponseDoc = { json: OpenAiModelList };
/** The lowest version across connections; null when none reports one. */
export const OLLAMA_VERSION: ResponseDoc = { json: z.object({ version: z.string().nullable() }) };
export const CONNECTION_SETTINGS: ResponseDoc = {
  json: z.object({
    ENABLE_OLLAMA_API: z.boolean(),
    OLLAMA_BASE_URLS: z.array(z.string()),
    OLLAMA_API_CONFIGS: z.record(z.string(), z.looseObject({})),
    MANAGED: z.array(z.string()),
  }),
};
