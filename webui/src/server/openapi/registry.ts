import { z } from 'zod';

/** Who may call a route; mirrors the guards in auth/guards.ts. */
export type Access = 'public' | 'signedIn' | 'verified' | 'admin';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * What a route answers with 200. `json` is the schema of a JSON answer (the
 * handler's return value is typed from it); `stream` names a streamed answer
 * the route may give instead (`ndjson`: Ollama's progress and tokens; `sse`:
 * OpenAI-style events). Errors always answer the `Error` schema.
 */
export interface ResponseDoc {
  json?: z.ZodType;
  stream?: 'ndjson' | 'sse';
}

/**
 * How each kind of streamed answer is documented: its media type and schema.
 * NDJSON is one text body of JSON lines; for an event stream, OpenAPI 3.1's
 * `schema` describes each event (its `data` carries a JSON chunk, or
 * `[DONE]` at the end).
 */
const STREAMS: Record<
  NonNullable<ResponseDoc['stream']>,
  { type: string; schema: Record<string, unknown> }
> = {
  ndjson: {
    type: 'application/x-ndjson',
    schema: { type: 'string', description: 'One JSON object per line' },
  },
  sse: {
    type: 'text/event-stream',
    schema: {
      type: 'object',
      required: ['data'],
      properties: { data: { type: 'string' }, event: { type: 'string' }, id: { type: 'string' } },
    },
  },
};

/**
 * Path parameters whose values have a shape: `url_idx` is a connection's
 * index, digits only (anything else is a 400), so the document says so.
 */
const PARAM_SCHEMAS: Record<string, Record<string, unknown>> = {
  url_idx: { type: 'string', pattern: '^[0-9]{1,9}$' },
};

export interface RouteDoc {
  method: Method;
  /** Full path in Koa syntax (`/api/v1/chats/:id`). */
  path: string;
  summary: string;
  access: Access;
  tag: string;
  /** The same zod schema that validates the request body. */
  body?: z.ZodType;
  response: ResponseDoc;
}

const ACCESS_TEXT: Record<Access, string> = {
  public: 'No sign-in needed.',
  signedIn: 'Any signed-in account, including pending.',
  verified: 'Signed-in user or admin; pending accounts get 403.',
  admin: 'Admins only.',
};

/** Koa's `/:id` to OpenAPI's `/{id}`. */
export const toOpenApiPath = (koaPath: string) => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Matches a request path against a route path in Koa syntax, with or without a trailing slash (as Koa routers do). */
function pathMatcher(koaPath: string): RegExp {
  const escaped = koaPath
    .split(/(:[A-Za-z0-9_]+)/)
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped === '/' ? '' : escaped}/?$`);
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
}

function successContent(response: ResponseDoc): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  if (response.json) content['application/json'] = { schema: jsonSchemaOf(response.json, 'output') };
  if (response.stream) {
    const stream = STREAMS[response.stream];
    content[stream.type] = { schema: stream.schema };
  }
  return content;
}

/**
 * Every HTTP route the server answers, described once, at registration.
 * /openapi.json is generated from it, so the document cannot drift from the
 * routes (a test compares it with the Koa routers).
 */
export class RouteRegistry {
  readonly routes: RouteDoc[] = [];
  private readonly matchers: { method: Method; match: RegExp }[] = [];

  add(doc: RouteDoc): void {
    // Koa routers are not strict about a trailing slash: `/ollama/` and `/ollama` are one route.
    const path = doc.path.length > 1 ? doc.path.replace(/\/+$/, '') : doc.path;
    if (this.routes.some((r) => r.method === doc.method && r.path === path)) return;
    this.routes.push({ ...doc, path });
    this.matchers.push({ method: doc.method, match: pathMatcher(path) });
  }

  /**
   * The methods served at this request path, upper case, with HEAD wherever
   * GET is; empty when no route has this path. A request whose method is not
   * among them gets 405 with this list as `Allow`.
   */
  methodsAt(requestPath: string): string[] {
    const methods = new Set<string>();
    for (const m of this.matchers) {
      if (!m.match.test(requestPath)) continue;
      methods.add(m.method.toUpperCase());
      if (m.method === 'get') methods.add('HEAD');
    }
    return [...methods];
  }

  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const p = toOpenApiPath(r.path);
      const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: PARAM_SCHEMAS[m[1] ?? ''] ?? { type: 'string' },
      }));
      const op: Record<string, unknown> = {
        summary: r.summary,
        description: ACCESS_TEXT[r.access],
        tags: [r.tag],
        'x-access': r.access,
        responses: {
          '200': { description: 'Success', content: successContent(r.response) },
          default: {
            description: 'Error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
      };
      if (params.length > 0) op.parameters = params;
      if (r.access !== 'public') op.security = [{ bearer: [] }, { cookie: [] }];
      if (r.body) {
        op.requestBody = {
          required: true,
          content: {
            'application/json': { schema: jsonSchemaOf(r.body, 'input') },
          },
        };
      }
      paths[p] ??= {};
      (paths[p] as Record<string, unknown>)[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info,
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'token' },
        },
        schemas: {
          Error: { type: 'object', properties: { detail: { type: 'string' } }, required: ['detail'] },
        },
      },
    };
  }
}
