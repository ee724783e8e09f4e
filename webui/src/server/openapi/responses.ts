import { z } from 'zod';

/**
 * Answers shared by several routes. Each route module declares its own
 * resource shapes next to its routes; these are the few that recur.
 */

/** `{"status": true}`: done, nothing else to say. */
export const StatusTrue = z.object({ status: z.literal(true) });

/** A bare `true`, as Open WebUI answers deletes and password changes. */
export const True = z.literal(true);

/** A JSON object relayed from elsewhere (Ollama): its shape is the upstream's, not ours. */
export const Relayed = z.looseObject({});
