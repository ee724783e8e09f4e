import { z } from 'zod';

/**
 * Request bodies of the /ollama routes. They check only what the proxy needs
 * (the model name, the stream flag) and keep every other field, so new
 * Ollama options pass through untouched.
 */

const modelName = z.string().min(1, 'must not be empty');
const stream = z.boolean().optional();

export const chatBody = z.looseObject({
  model: modelName,
  messages: z.array(z.looseObject({ role: z.string(), content: z.string().optional() })),
  stream,
});

export const generateBody = z.looseObject({ model: modelName, prompt: z.string().optional(), stream });

/**
 * `/api/show`, `/api/delete`, `/api/pull`, `/api/create` accept `model` or the
 * older `name`: one of them is required (a union, so the OpenAPI document says so).
 */
export const namedModelBody = z.union(
  [
    z.looseObject({ model: modelName, name: modelName.optional(), stream }),
    z.looseObject({ model: modelName.optional(), name: modelName, stream }),
  ],
  { error: 'model is required' },
);

/** Ollama pushes only namespaced names (`<namespace>/<model>`), and answers 400 to any other. */
const pushName = modelName.regex(/^[^/\s]+\/\S+$/, 'must be namespaced: <namespace>/<model>');
export const pushBody = z.union(
  [
    z.looseObject({ model: pushName, name: pushName.optional(), stream }),
    z.looseObject({ model: pushName.optional(), name: pushName, stream }),
  ],
  { error: 'model is required, namespaced: <namespace>/<model>' },
);

export const embedBody = z.looseObject({
  model: modelName,
  input: z.union([z.string(), z.array(z.string())]),
});

export const embeddingsBody = z.looseObject({ model: modelName, prompt: z.string() });

export const copyBody = z.looseObject({ source: modelName, destination: modelName });

export const openaiChatBody = z.looseObject({
  model: modelName,
  messages: z.array(z.looseObject({ role: z.string() })),
  stream,
});

export const openaiCompletionBody = z.looseObject({
  model: modelName,
  prompt: z.union([z.string(), z.array(z.string())]),
  stream,
});

export const connectionConfig = z.looseObject({
  enable: z.boolean().optional(),
  key: z.string().optional(),
  prefix_id: z.string().optional(),
  model_ids: z.array(z.string()).optional(),
  tags: z.array(z.unknown()).optional(),
  connection_type: z.string().optional(),
});

export const configUpdateBody = z.looseObject({
  ENABLE_OLLAMA_API: z.boolean().optional(),
  OLLAMA_BASE_URLS: z.array(z.string()).optional(),
  OLLAMA_API_CONFIGS: z.record(z.string(), connectionConfig).optional(),
});

export const verifyBody = z.object({ url: z.string().min(1), key: z.string().optional() });
