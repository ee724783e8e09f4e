/**
 * A protocol-faithful fake Ollama for tests, benchmarks and manual use. It
 * speaks the same JSON, NDJSON and SSE shapes as Ollama (0.6-era), and has
 * models that misbehave on purpose:
 *
 * - `llama3.2:latest`, `nomic-embed-text:latest`: answer at once;
 * - `slow:latest`: waits `slowTokenDelayMs` between tokens;
 * - `stalled:latest`: sends `stalledAfterChunks` chunks, then goes silent;
 * - `hang:latest`: never sends headers;
 * - `failing:latest`: answers 500 with Ollama's `{"error": "..."}` body;
 * - `dying:latest`: sends `dyingAfterChunks` chunks, then destroys the socket.
 *
 * Every request is recorded (headers, body, whether it finished or the client
 * aborted it) for assertions.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ModelKind = 'normal' | 'slow' | 'stalled' | 'hang' | 'failing' | 'dying' | 'embedding';

export interface FakeModel {
  name: string;
  kind: ModelKind;
}

export const DEFAULT_MODELS: readonly FakeModel[] = [
  { name: 'llama3.2:latest', kind: 'normal' },
  { name: 'nomic-embed-text:latest', kind: 'embedding' },
  { name: 'slow:latest', kind: 'slow' },
  { name: 'stalled:latest', kind: 'stalled' },
  { name: 'hang:latest', kind: 'hang' },
  { name: 'failing:latest', kind: 'failing' },
  { name: 'dying:latest', kind: 'dying' },
];

export interface FakeOllamaOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  version?: string;
  models?: readonly FakeModel[];
  /** The reply, one token per chunk. */
  tokens?: readonly string[];
  slowTokenDelayMs?: number;
  stalledAfterChunks?: number;
  dyingAfterChunks?: number;
  /** Delay before answering /api/tags, /api/version and /v1/models (model-list timeout tests). */
  listDelayMs?: number;
  /** When set, every request needs `Authorization: Bearer <key>` (else 401). */
  requireKey?: string;
  /** Record requests (default true; the benchmark turns it off). */
  record?: boolean;
}

export interface RecordedRequest {
  id: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** Body chunks (NDJSON lines, SSE events) written so far. */
  chunksSent: number;
  /** The response was completely written. */
  finished: boolean;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
}

export interface FakeOllama {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Current model names (pull/copy/create/delete change them). */
  modelNames(): string[];
  /** Resolves with the first recorded request (past or future) matching `pred`. */
  waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const digestOf = (s: string) => createHash('sha256').update(s).digest('hex');

function normalize(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? name : `${name}:latest`;
}

function details(name: string) {
  const family = name.startsWith('nomic') ? 'nomic-bert' : 'llama';
  return {
    parent_model: '',
    format: 'gguf',
    family,
    families: [family],
    parameter_size: family === 'llama' ? '3.2B' : '137M',
    quantization_level: 'Q4_K_M',
  };
}

function tagEntry(name: string, modifiedAt: string) {
  return {
    name,
    model: name,
    modified_at: modifiedAt,
    size: 2019393189,
    digest: digestOf(name),
    details: details(name),
  };
}

/** A deterministic unit vector from the text, so equal inputs embed equally. */
function embedding(text: string, dims = 8): number[] {
  const h = createHash('sha256').update(text).digest();
  const v = Array.from({ length: dims }, (_, i) => ((h[i] ?? 0) - 128) / 128);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

export async function startFakeOllama(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const version = opts.version ?? '0.6.5';
  const tokens = opts.tokens ?? ['Hello', ' from', ' the', ' fake', ' Ollama', '.'];
  const slowDelay = opts.slowTokenDelayMs ?? 200;
  const stalledAfter = opts.stalledAfterChunks ?? 1;
  const dyingAfter = opts.dyingAfterChunks ?? 2;
  const listDelay = opts.listDelayMs ?? 0;
  const record = opts.record ?? true;
  const startedAt = new Date().toISOString();

  const models = new Map<string, ModelKind>();
  for (const m of opts.models ?? DEFAULT_MODELS) models.set(normalize(m.name), m.kind);
  const loaded = new Set<string>();
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let nextId = 1;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function sendJson(res: http.ServerResponse, status: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  async function readJson(req: http.IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return { ok: true, value: {} };
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false };
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const parsed =
      req.method === 'GET' || req.method === 'HEAD' ? { ok: true as const, value: {} } : await readJson(req);
    const rec: RecordedRequest = {
      id: nextId++,
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
      body: parsed.ok ? parsed.value : undefined,
      chunksSent: 0,
      finished: false,
      aborted: false,
    };
    if (record) requests.push(rec);
    res.on('finish', () => {
      rec.finished = true;
      events.emit('change', rec);
    });
    res.on('close', () => {
      if (!rec.finished) {
        rec.aborted = true;
        events.emit('change', rec);
      }
    });
    events.emit('change', rec);

    if (opts.requireKey !== undefined && req.headers.authorization !== `Bearer ${opts.requireKey}`) {
      return sendJson(res, 401, { error: 'unauthorized' });
    }
    if (!parsed.ok) return sendJson(res, 400, { error: 'invalid character in request body: not JSON' });
    const body = (parsed.value ?? {}) as Record<string, unknown>;
    const route = `${req.method} ${url.pathname}`;

    switch (route) {
      case 'GET /':
      case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end('Ollama is running');
      case 'GET /api/version':
        await sleep(listDelay);
        return sendJson(res, 200, { version });
      case 'GET /api/tags':
        await sleep(listDelay);
        return sendJson(res, 200, { models: [...models.keys()].map((n) => tagEntry(n, startedAt)) });
      case 'GET /api/ps':
        return sendJson(res, 200, {
          models: [...loaded].map((n) => ({
            ...tagEntry(n, startedAt),
            expires_at: new Date(Date.now() + 300_000).toISOString(),
            size_vram: 2019393189,
          })),
        });
      case 'GET /v1/models':
        await sleep(listDelay);
        return sendJson(res, 200, {
          object: 'list',
          data: [...models.keys()].map((id) => ({
            id,
            object: 'model',
            created: Math.floor(Date.parse(startedAt) / 1000),
            owned_by: 'library',
          })),
        });
      case 'POST /api/chat':
      case 'POST /api/generate':
        return generation(req, res, rec, body, url.pathname === '/api/chat' ? 'chat' : 'generate');
      case 'POST /v1/chat/completions':
        return openaiChat(res, rec, body);
      case 'POST /v1/completions':
        return openaiCompletion(res, rec, body);
      case 'POST /api/push':
        return push(res, rec, body);
      case 'POST /api/show':
        return show(res, body);
      case 'POST /api/embed':
      case 'POST /api/embeddings':
        return embed(res, body, url.pathname === '/api/embed');
      case 'POST /api/pull':
        return pull(res, rec, body);
      case 'POST /api/create':
        return create(res, rec, body);
      case 'DELETE /api/delete': {
        const name = modelOf(body);
        if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
        if (!models.delete(normalize(name)))
          return sendJson(res, 404, { error: `model '${name}' not found` });
        res.writeHead(200);
        return res.end();
      }
      case 'POST /api/copy': {
        const source = typeof body.source === 'string' ? body.source : undefined;
        const destination = typeof body.destination === 'string' ? body.destination : undefined;
        if (source === undefined || destination === undefined)
          return sendJson(res, 400, { error: 'source and destination are required' });
        const kind = models.get(normalize(source));
        if (kind === undefined) return sendJson(res, 404, { error: `model '${source}' not found` });
        models.set(normalize(destination), kind);
        res.writeHead(200);
        return res.end();
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('404 page not found');
    }
  }

  function modelOf(body: Record<string, unknown>): string | undefined {
    const m = body.model ?? body.name;
    return typeof m === 'string' && m !== '' ? m : undefined;
  }

  /** Writes one chunk; false when the client has gone. */
  function write(res: http.ServerResponse, rec: RecordedRequest, text: string): boolean {
    if (res.destroyed) return false;
    res.write(text);
    rec.chunksSent++;
    return true;
  }

  /** Writes the token chunks with the model's behaviour; returns false if it stopped early. */
  async function streamTokens(
    res: http.ServerResponse,
    rec: RecordedRequest,
    kind: ModelKind,
    chunk: (token: string) => string,
  ): Promise<boolean> {
    for (let i = 0; i < tokens.length; i++) {
      if (kind === 'stalled' && i >= stalledAfter) return new Promise<boolean>(() => {}); // silent forever
      if (kind === 'dying' && i >= dyingAfter) {
        // Like a crashed runner: what was written goes out, then the connection
        // closes without the chunked terminator.
        res.socket?.destroySoon();
        return false;
      }
      if (kind === 'slow' && i > 0) await sleep(slowDelay);
      if (!write(res, rec, chunk(tokens[i] as string))) return false;
    }
    return true;
  }

  function stats(promptTokens: number) {
    return {
      total_duration: 4883583458,
      load_duration: 1334875,
      prompt_eval_count: promptTokens,
      prompt_eval_duration: 342546000,
      eval_count: tokens.length,
      eval_duration: 4535599000,
    };
  }

  /** Checks the model and answers the failures every generating endpoint shares. true: go on. */
  async function admit(
    res: http.ServerResponse,
    name: string | undefined,
    openai: boolean,
  ): Promise<{ name: string; kind: ModelKind } | undefined> {
    const error = (status: number, message: string) =>
      sendJson(
        res,
        status,
        openai ? { error: { message, type: 'api_error', param: null, code: null } } : { error: message },
      );
    if (name === undefined) {
      error(400, 'model is required');
      return undefined;
    }
    const kind = models.get(normalize(name));
    if (kind === undefined) {
      error(404, `model "${name}" not found, try pulling it first`);
      return undefined;
    }
    if (kind === 'failing') {
      error(500, 'llama runner process has terminated: exit status 2');
      return undefined;
    }
    if (kind === 'hang') {
      await new Promise<void>(() => {}); // never answers; the client gives up
    }
    loaded.add(normalize(name));
    return { name, kind };
  }

  async function generation(
    _req: http.IncomingMessage,
    res: http.ServerResponse,
    rec: RecordedRequest,
    body: Record<string, unknown>,
    mode: 'chat' | 'generate',
  ) {
    // Ollama's unload: an empty generate with keep_alive 0 answers done_reason "unload" at once.
    const unloading =
      mode === 'generate' && !body.prompt && (body.keep_alive === 0 || body.keep_alive === '0');
    if (unloading) {
      const name = modelOf(body);
      if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
      if (!models.has(normalize(name)))
        return sendJson(res, 404, { error: `model "${name}" not found, try pulling it first` });
      loaded.delete(normalize(name));
      return sendJson(res, 200, {
        model: name,
        created_at: new Date().toISOString(),
        response: '',
        done: true,
        done_reason: 'unload',
      });
    }
    const model = await admit(res, modelOf(body), false);
    if (model === undefined) return;
    const created = () => new Date().toISOString();
    const promptTokens = mode === 'chat' && Array.isArray(body.messages) ? body.messages.length * 8 : 8;
    const final = {
      model: model.name,
      created_at: created(),
      ...(mode === 'chat' ? { message: { role: 'assistant', content: '' } } : { response: '' }),
      done_reason: 'stop',
      done: true,
      ...(mode === 'generate' ? { context: [1, 2, 3] } : {}),
      ...stats(promptTokens),
    };

    if (body.stream === false) {
      if (model.kind === 'stalled') return new Promise<void>(() => {});
      if (model.kind === 'dying') {
        res.socket?.destroy();
        return;
      }
      if (model.kind === 'slow') await sleep(slowDelay * (tokens.length - 1));
      const text = tokens.join('');
      return sendJson(res, 200, {
        ...final,
        ...(mode === 'chat' ? { message: { role: 'assistant', content: text } } : { response: text }),
      });
    }

    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const ok = await streamTokens(
      res,
      rec,
      model.kind,
      (t) =>
        `${JSON.stringify({
          model: model.name,
          created_at: created(),
          ...(mode === 'chat' ? { message: { role: 'assistant', content: t } } : { response: t }),
          done: false,
        })}\n`,
    );
    if (!ok) return;
    write(res, rec, `${JSON.stringify(final)}\n`);
    res.end();
  }

  async function openaiChat(res: http.ServerResponse, rec: RecordedRequest, body: Record<string, unknown>) {
    const model = await admit(res, modelOf(body), true);
    if (model === undefined) return;
    const id = `chatcmpl-${rec.id}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream !== true) {
      if (model.kind === 'stalled') return new Promise<void>(() => {});
      if (model.kind === 'dying') {
        res.socket?.destroy();
        return;
      }
      if (model.kind === 'slow') await sleep(slowDelay * (tokens.length - 1));
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: model.name,
        system_fingerprint: 'fp_ollama',
        choices: [
          { index: 0, message: { role: 'assistant', content: tokens.join('') }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 8, completion_tokens: tokens.length, total_tokens: 8 + tokens.length },
      });
    }
    const event = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: model.name,
        system_fingerprint: 'fp_ollama',
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const ok = await streamTokens(res, rec, model.kind, (t) =>
      event({ role: 'assistant', content: t }, null),
    );
    if (!ok) return;
    write(res, rec, event({ role: 'assistant', content: '' }, 'stop'));
    write(res, rec, 'data: [DONE]\n\n');
    res.end();
  }

  /** OpenAI-compatible legacy completions (`/v1/completions`): text_completion objects, SSE when stream is true. */
  async function openaiCompletion(
    res: http.ServerResponse,
    rec: RecordedRequest,
    body: Record<string, unknown>,
  ) {
    const model = await admit(res, modelOf(body), true);
    if (model === undefined) return;
    const id = `cmpl-${rec.id}`;
    const created = Math.floor(Date.now() / 1000);
    const completion = (text: string, finish: string | null) => ({
      id,
      object: 'text_completion',
      created,
      model: model.name,
      system_fingerprint: 'fp_ollama',
      choices: [{ text, index: 0, finish_reason: finish }],
    });
    if (body.stream !== true) {
      if (model.kind === 'stalled') return new Promise<void>(() => {});
      if (model.kind === 'slow') await sleep(slowDelay * (tokens.length - 1));
      return sendJson(res, 200, {
        ...completion(tokens.join(''), 'stop'),
        usage: { prompt_tokens: 8, completion_tokens: tokens.length, total_tokens: 8 + tokens.length },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const ok = await streamTokens(
      res,
      rec,
      model.kind,
      (t) => `data: ${JSON.stringify(completion(t, null))}\n\n`,
    );
    if (!ok) return;
    write(res, rec, `data: ${JSON.stringify(completion('', 'stop'))}\n\n`);
    write(res, rec, 'data: [DONE]\n\n');
    res.end();
  }

  function show(res: http.ServerResponse, body: Record<string, unknown>) {
    const name = modelOf(body);
    if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
    if (!models.has(normalize(name))) return sendJson(res, 404, { error: `model '${name}' not found` });
    return sendJson(res, 200, {
      license: 'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT',
      modelfile: `# Modelfile generated by "ollama show"\nFROM ${normalize(name)}\n`,
      parameters: 'stop "<|eot_id|>"',
      template: '{{ .Prompt }}',
      details: details(name),
      model_info: { 'general.architecture': 'llama', 'general.parameter_count': 3212749888 },
      capabilities: name.startsWith('nomic') ? ['embedding'] : ['completion', 'tools'],
      modified_at: startedAt,
    });
  }

  function embed(res: http.ServerResponse, body: Record<string, unknown>, modern: boolean) {
    const name = modelOf(body);
    if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
    if (!models.has(normalize(name)))
      return sendJson(res, 404, { error: `model "${name}" not found, try pulling it first` });
    if (!modern) {
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      return sendJson(res, 200, { embedding: embedding(prompt) });
    }
    const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
    return sendJson(res, 200, {
      model: name,
      embeddings: inputs.map((t) => embedding(t)),
      total_duration: 14143917,
      load_duration: 1019500,
      prompt_eval_count: inputs.length * 4,
    });
  }

  async function progress(
    res: http.ServerResponse,
    rec: RecordedRequest,
    stream: boolean,
    lines: readonly object[],
  ): Promise<void> {
    if (!stream) return sendJson(res, 200, { status: 'success' });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const line of lines) {
      if (!write(res, rec, `${JSON.stringify(line)}\n`)) return;
      await sleep(1);
    }
    res.end();
  }

  async function pull(res: http.ServerResponse, rec: RecordedRequest, body: Record<string, unknown>) {
    const name = modelOf(body);
    if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
    if (name.startsWith('nonexistent'))
      return sendJson(res, 500, { error: 'pull model manifest: file does not exist' });
    const digest = `sha256:${digestOf(name)}`;
    const total = 2019377376;
    models.set(normalize(name), 'normal');
    return progress(res, rec, body.stream !== false, [
      { status: 'pulling manifest' },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: 0 },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: total / 2 },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: total },
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ]);
  }

  async function push(res: http.ServerResponse, rec: RecordedRequest, body: Record<string, unknown>) {
    const name = modelOf(body);
    if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
    if (!models.has(normalize(name))) return sendJson(res, 404, { error: `model "${name}" not found` });
    if (!name.includes('/'))
      return sendJson(res, 400, {
        error: 'a model name must be namespaced (<namespace>/<model>) to push it to the registry',
      });
    const digest = `sha256:${digestOf(name)}`;
    const total = 1928429856;
    return progress(res, rec, body.stream !== false, [
      { status: 'retrieving manifest' },
      { status: 'starting upload', digest, total },
      { status: 'pushing manifest' },
      { status: 'success' },
    ]);
  }

  async function create(res: http.ServerResponse, rec: RecordedRequest, body: Record<string, unknown>) {
    const name = modelOf(body);
    if (name === undefined) return sendJson(res, 400, { error: 'model is required' });
    const from = typeof body.from === 'string' ? body.from : undefined;
    if (from !== undefined && !models.has(normalize(from)))
      return sendJson(res, 404, { error: `model '${from}' not found` });
    models.set(normalize(name), from !== undefined ? (models.get(normalize(from)) ?? 'normal') : 'normal');
    return progress(res, rec, body.stream !== false, [
      { status: 'reading model metadata' },
      { status: 'creating system layer' },
      { status: `using already created layer sha256:${digestOf(name)}` },
      { status: 'writing manifest' },
      { status: 'success' },
    ]);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    requests,
    modelNames: () => [...models.keys()],
    waitFor(pred, timeoutMs = 10_000) {
      const hit = requests.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise<RecordedRequest>((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('change', onChange);
          reject(new Error(`fake Ollama: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        const onChange = (r: RecordedRequest) => {
          if (!pred(r)) return;
          clearTimeout(timer);
          events.off('change', onChange);
          resolve(r);
        };
        events.on('change', onChange);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
