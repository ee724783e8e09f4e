import type { RuntimeConfig } from '../../../config/runtime-config.ts';
import { settings } from '../../../contract/env.ts';
import { badRequest } from '../../http-error.ts';
import { unmaskUrl, updateOllamaConfig, viewOllamaConfig } from '../config-routes.ts';
import { type Connection, currentConnections } from '../connections.ts';
import type { ModelRegistry } from '../model-registry.ts';
import type { OllamaHandlers } from '../route-table.ts';
import { clientSignal, type UpstreamCalls } from '../upstream-calls.ts';

/** The proxy's own routes: its status and the connection settings an admin manages. */
export function settingsHandlers(deps: {
  config: RuntimeConfig;
  registry: ModelRegistry;
  calls: UpstreamCalls;
}): OllamaHandlers<'status' | 'config' | 'configUpdate' | 'verify'> {
  const { config, registry, calls } = deps;
  return {
    async status() {
      return { status: true };
    },
    async config() {
      return viewOllamaConfig(config);
    },
    async configUpdate(_ctx, body) {
      const view = await updateOllamaConfig(config, body);
      registry.invalidate();
      return view;
    },
    async verify(ctx, body) {
      let url: string;
      try {
        url = settings.ollamaBaseUrl.parse(body.url);
      } catch (e) {
        throw badRequest(`url: ${(e as Error).message}`);
      }
      // The settings form shows saved URLs with their credentials masked, and verifies them as shown.
      url = unmaskUrl(
        url,
        currentConnections(config).map((c) => c.url),
        -1,
        'url',
      );
      const conn: Connection = { idx: -1, url, enabled: true };
      if (body.key !== undefined && body.key !== '') conn.key = body.key;
      return calls.listing(conn, '/api/version', clientSignal(ctx));
    },
  };
}
