import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { api, messageOf } from '../api.ts';

export interface ModelInfo {
  name: string;
  model?: string;
}

interface TagsResponse {
  models?: ModelInfo[];
  errors?: unknown[];
}

const MODEL_KEY = 'webui.model';

/** Open WebUI reports per-upstream failures in `errors`; their shape varies, so read what is there. */
function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const msg = o.detail ?? o.error ?? o.message;
    const url = typeof o.url === 'string' ? `${o.url}: ` : '';
    if (typeof msg === 'string') return url + msg;
  }
  return JSON.stringify(e);
}

/**
 * The models Ollama offers (GET /ollama/api/tags, loaded whenever the host
 * connects) and the one picked, which is remembered across visits.
 */
export class ModelChoice implements ReactiveController {
  models: ModelInfo[] = [];
  loading = true;
  /** Why the list could not be loaded at all (the server's detail, e.g. Ollama unreachable), or ''. */
  error = '';
  /** Connections that did not answer while others did. */
  upstreamErrors: string[] = [];
  /** The model new messages go to; '' while there is none. */
  selected = '';

  readonly #host: ReactiveControllerHost;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected() {
    void this.load();
  }

  async load() {
    this.loading = true;
    this.error = '';
    this.upstreamErrors = [];
    this.#host.requestUpdate();
    try {
      const tags = await api<TagsResponse>('/ollama/api/tags');
      this.models = tags?.models ?? [];
      this.upstreamErrors = (tags?.errors ?? []).map(errorText);
      const saved = localStorage.getItem(MODEL_KEY) ?? '';
      if (!this.models.some((m) => m.name === this.selected)) {
        this.selected = this.models.find((m) => m.name === saved)?.name ?? this.models[0]?.name ?? '';
      }
    } catch (err) {
      this.models = [];
      this.error = messageOf(err);
    } finally {
      this.loading = false;
      this.#host.requestUpdate();
    }
  }

  /** The person chose `name`: use it, and offer it first next time. */
  pick(name: string) {
    this.selected = name;
    localStorage.setItem(MODEL_KEY, name);
    this.#host.requestUpdate();
  }

  /**
   * An opened chat's model. Kept when listed, or while the list is still
   * loading (a page opened on #/c/<id>): load() keeps a model it lists.
   */
  adopt(name: string) {
    if (!this.loading && !this.models.some((m) => m.name === name)) return;
    this.selected = name;
    this.#host.requestUpdate();
  }
}
