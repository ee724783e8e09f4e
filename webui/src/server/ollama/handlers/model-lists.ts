import type { RuntimeConfig } from '../../../config/runtime-config.ts';
import { HttpError } from '../../http-error.ts';
import { connectionModels } from '../connection-models.ts';
import { type Connection, connectionAt, currentConnections } from '../connections.ts';
import type { MergedModel, MergedTags, ModelRegistry, UpstreamProblem } from '../model-registry.ts';
import type { OllamaContext, OllamaHandlers } from '../route-table.ts';
import { clientSignal, type UpstreamCalls } from '../upstream-calls.ts';

/**
 * The lists merged across connections (models, loaded models, versions),
 * each also for one connection by `url_idx`. A connection that fails is
 * reported in `errors`, never dropped in silence.
 */
export function modelListHandlers(deps: {
  config: RuntimeConfig;
  registry: ModelRegistry;
  calls: UpstreamCalls;
}): OllamaHandlers<'tags' | 'version' | 'ps' | 'openaiModels'> {
  const { config, registry, calls } = deps;

  /** One connection's own answer to `path`, when the route names it by `url_idx`. */
  const fromIndexed = (ctx: OllamaContext, conns: readonly Connection[], path: string) =>
    ctx.params.url_idx === undefined
      ? undefined
      : calls.listing(connectionAt(conns, ctx.params.url_idx), path, clientSignal(ctx));

  /** The models of every enabled connection, listed afresh. */
  const mergedModels = async (conns: readonly Connection[]) => {
    const merged = await registry.merged(conns, true);
    failIfNothingAnswered(conns, merged.errors);
    return merged;
  };

  return {
    async tags(ctx) {
      const conns = currentConnections(config);
      return fromIndexed(ctx, conns, '/api/tags') ?? mergedModels(conns);
    },

    async version(ctx) {
      const lowest = async () => {
        const conns = currentConnections(config);
        const one = fromIndexed(ctx, conns, '/api/version');
        if (one !== undefined) return one;
        const { values, errors } = await calls.fromEach(conns, '/api/version', ctx);
        failIfNothingAnswered(conns, errors);
        const versions = values
          .map((v) => (v.value as { version?: unknown } | null)?.version)
          .filter((v): v is string => typeof v === 'string');
        return { version: versions.sort(compareVersions)[0] ?? null };
      };
      if (ctx.state.user !== undefined) return lowest();
      // This route is open: anonymous callers learn neither the upstream URLs nor why a call failed.
      return lowest().catch((err: unknown) => {
        throw err instanceof HttpError ? anonymousFailure(err.status) : err;
      });
    },

    async ps(ctx) {
      const conns = currentConnections(config);
      const { values, errors } = await calls.fromEach(conns, '/api/ps', ctx);
      failIfNothingAnswered(conns, errors);
      const byName = new Map<string, MergedModel>();
      for (const { idx, value } of values) {
        const conn = conns[idx];
        const listed = (value as { models?: unknown } | null)?.models;
        const models = conn ? connectionModels(conn, listed) : listed;
        if (!Array.isArray(models)) continue;
        for (const m of models as Record<string, unknown>[]) {
          const name = String(m.model ?? m.name ?? '');
          const seen = byName.get(name);
          if (seen === undefined)
            byName.set(name, { ...m, name: String(m.name ?? name), model: name, urls: [idx] });
          else seen.urls.push(idx);
        }
      }
      return { models: [...byName.values()], errors };
    },

    async openaiModels(ctx) {
      const conns = currentConnections(config);
      return fromIndexed(ctx, conns, '/v1/models') ?? mergedModels(conns).then(openaiModelList);
    },
  };
}

/** The merged list in OpenAI's shape, each model still with the connections that have it. */
function openaiModelList(merged: MergedTags) {
  return {
    object: 'list',
    data: merged.models.map((m) => ({
      id: m.model,
      object: 'model',
      created: typeof m.modified_at === 'string' ? Math.floor(Date.parse(m.modified_at) / 1000) || 0 : 0,
      owned_by: 'library',
      urls: m.urls,
    })),
    errors: merged.errors,
  };
}

/** The same status with a message that names nothing internal (addresses, socket errors, indexes). */
function anonymousFailure(status: number): HttpError {
  // 400 is a url_idx that names no enabled connection.
  if (status === 400) return new HttpError(400, 'No such Ollama connection');
  return new HttpError(status, 'No Ollama server answered; sign in as an admin for details');
}

/** Every connection failed: answer with the first failure rather than an empty 200. */
function failIfNothingAnswered(conns: readonly Connection[], errors: UpstreamProblem[]) {
  const enabled = conns.filter((c) => c.enabled).length;
  const first = errors[0];
  if (first !== undefined && errors.length === enabled) throw new HttpError(first.status, first.detail);
}

/** Orders "0.5.1" < "0.12.0" < "0.12.0-rc1"-style strings numerically, part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
