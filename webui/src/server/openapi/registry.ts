import { z } from 'zod';

/** Who may call a route; mirrors the guards in auth/guards.ts. */
export type Access = 'public' | 'signedIn' | 'verified' | 'admin';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDoc {
  method: Method;
  /** Full path in Koa syntax (`/api/v1/chats/:id`). */
  path: string;
  summary: string;
  access: Access;
  tag: string;
  /** The same zod schema that validates the request body. */
  body?: z.ZodType;
}

const ACCESS_TEXT: Record<Access, string> = {
  public: 'No sign-in needed.',
  signedIn: 'Any signed-in account, including pending.',
  verified: 'Signed-in user or admin; pending accounts get 403.',
  admin: 'Admins only.',
};

/** Koa's `/:id` to OpenAPI's `/{id}`. */
export const toOpenApiPath = (koaPath: string) => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Every HTTP route the server answers, described once, at registration.
 * /openapi.json is generated from it, so the document cannot drift from the
 * routes (a test compares it with the Koa routers).
 */
export class RouteRegistry {
  readonly routes: RouteDoc[] = [];

  add(doc: RouteDoc): void {
    // Koa routers are not strict about a trailing slash: `/ollama/` and `/ollama` are one route.
    const path = doc.path.length > 1 ? doc.path.replace(/\/+$/, '') : doc.path;
    if (this.routes.some((r) => r.method === doc.method && r.path === path)) return;
    this.routes.push({ ...doc, path });
  }

  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const p = toOpenApiPath(r.path);
      const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      const op: Record<string, unknown> = {
        summary: r.summary,
        description: ACCESS_TEXT[r.access],
        tags: [r.tag],
        'x-access': r.access,
        responses: {
          '200': { description: 'Success' },
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
            'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) },
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
