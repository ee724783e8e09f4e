/**
 * A small self-healing informer: list, then watch from the list's
 * resourceVersion with bookmarks; relist on 410 Gone; reconnect with jittered
 * exponential backoff on any other failure; never stop until stop() is called.
 * Handlers only get told about changes; they must not do I/O themselves.
 *
 * Written instead of client-node's makeInformer, which stops for good on any
 * non-410 error, asks for no bookmarks and mixes Date and string timestamps.
 * The transport (KubeClient.watch) is separate, so tests can drive events.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { httpStatusOf } from './errors.ts';

export type EventType = 'add' | 'update' | 'delete';

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

/** Opens one watch; resolves its AbortController (which may abort it at any time), calls done exactly once at the end. */
export type WatchFn = (
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (type: string, obj: unknown) => void,
  done: (err: unknown) => void,
  /** The Accept header, e.g. metadata-only watches; JSON objects by default. */
  accept?: string,
) => Promise<AbortController>;

export interface InformerHooks {
  /** A watch ended and is being re-established (reason: closed, gone, error, timeout, watchdog). */
  onRestart?(resource: string, reason: string): void;
  onError?(resource: string, err: unknown): void;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** Short name for logs and metrics, e.g. "deployments". */
  resource: string;
  /** One page of the list; must apply the same label and field selectors as the watch. */
  list(opts: { limit: number; continue?: string }): Promise<ListPage<T>>;
  /** API path to watch, e.g. /apis/apps/v1/deployments. */
  watchPath: string;
  labelSelector?: string;
  /** e.g. `metadata.name=x` to watch one object (RBAC resourceNames then authorize the watch). */
  fieldSelector?: string;
  /** Accept header of the watch (the list function sets its own), e.g. CONTENT_TYPE.metadata. */
  watchAccept?: string;
  watch: WatchFn;
  onChange(type: EventType, obj: T, old: T | undefined): void;
  hooks?: InformerHooks;
  /** Backoff for reconnects after failures. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Relist when nothing (not even a bookmark) arrived for this long. */
  watchdogMs?: number;
  pageSize?: number;
  random?: () => number;
}

/** The fields of a list response that an informer reads. */
export type ListResult = {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
};

/** One page of a list response, as an informer's list function returns it. */
export function listPage<T>(list: ListResult): ListPage<T> {
  const cont = list.metadata?.continue;
  return {
    items: (list.items ?? []) as T[],
    resourceVersion: list.metadata?.resourceVersion ?? '',
    ...(cont ? { continue: cont } : {}),
  };
}

export function objectKey(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function isGone(obj: unknown): boolean {
  return typeof obj === 'object' && obj !== null && (obj as { code?: number }).code === 410;
}

/** Drops what the operator never reads, to keep the cache small at scale. */
function slim<T extends KubernetesObject>(o: T): T {
  if (o.metadata?.managedFields) {
    const { managedFields: _drop, ...meta } = o.metadata;
    return { ...o, metadata: meta };
  }
  return o;
}

export class Informer<T extends KubernetesObject> {
  private readonly opts: InformerOptions<T>;
  private readonly store = new Map<string, T>();
  private resourceVersion = '';
  private needList = true;
  private synced = false;
  private stopped = false;
  private current: AbortController | undefined;
  private lastActivity = Date.now();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
  }

  get resource(): string {
    return this.opts.resource;
  }

  /** Milliseconds since the API server was last heard from (event, bookmark or list). */
  silenceMs(): number {
    return Date.now() - this.lastActivity;
  }

  /** True once the first list completed. */
  hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    if (this.loop) return;
    const watchdogMs = this.opts.watchdogMs ?? 5 * 60_000;
    this.watchdog = setInterval(
      () => {
        if (Date.now() - this.lastActivity > watchdogMs && this.current) {
          this.opts.hooks?.onRestart?.(this.opts.resource, 'watchdog');
          this.needList = true;
          this.current.abort();
        }
      },
      Math.min(watchdogMs, 30_000),
    );
    this.watchdog.unref();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.current?.abort();
    this.wake?.();
    await this.loop;
  }

  private backoff(failures: number): number {
    const initial = this.opts.initialBackoffMs ?? 1000;
    const max = this.opts.maxBackoffMs ?? 60_000;
    const base = Math.min(max, initial * 2 ** Math.max(0, failures - 1));
    const r = this.opts.random ?? Math.random;
    return Math.round(base * (0.8 + 0.4 * r()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (this.needList) {
        try {
          await this.relist();
          failures = 0;
        } catch (e) {
          failures++;
          this.opts.hooks?.onError?.(this.opts.resource, e);
          await this.sleep(this.backoff(failures));
          continue;
        }
      }
      if (this.stopped) break;
      const reason = await this.watchOnce();
      if (this.stopped) break;
      if (reason === 'gone') {
        this.needList = true;
      } else if (reason === 'error') {
        failures++;
        await this.sleep(this.backoff(failures));
      } else {
        failures = 0;
      }
      this.opts.hooks?.onRestart?.(this.opts.resource, reason);
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.opts.list({
        limit: this.opts.pageSize ?? 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const raw of page.items) {
        const o = slim(raw);
        fresh.set(objectKey(o), o);
      }
      rv = page.resourceVersion;
      cont = page.continue || undefined;
    } while (cont);
    const old = new Map(this.store);
    this.store.clear();
    for (const [k, o] of fresh) this.store.set(k, o);
    for (const [k, o] of fresh) {
      const prev = old.get(k);
      if (!prev) this.opts.onChange('add', o, undefined);
      else if (prev.metadata?.uid !== o.metadata?.uid) {
        this.opts.onChange('delete', prev, undefined);
        this.opts.onChange('add', o, undefined);
      } else if (prev.metadata?.resourceVersion !== o.metadata?.resourceVersion)
        this.opts.onChange('update', o, prev);
    }
    for (const [k, o] of old) if (!fresh.has(k)) this.opts.onChange('delete', o, undefined);
    this.resourceVersion = rv;
    this.needList = false;
    this.synced = true;
    this.lastActivity = Date.now();
  }

  /** One watch connection; resolves with why it ended. */
  private watchOnce(): Promise<'closed' | 'gone' | 'error' | 'timeout' | 'watchdog'> {
    return new Promise((resolve) => {
      let gone = false;
      // An event may arrive before watch() resolved its controller: remember to abort then.
      let ctrl: AbortController | undefined;
      let abortRequested = false;
      const abort = () => {
        abortRequested = true;
        ctrl?.abort();
      };
      const r = this.opts.random ?? Math.random;
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        // Bounded server-side lifetime, jittered so watches do not reconnect in lockstep.
        timeoutSeconds: Math.round(240 + 120 * r()),
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      };
      const onEvent = (type: string, obj: unknown) => {
        this.lastActivity = Date.now();
        if (type === 'ERROR') {
          if (isGone(obj)) gone = true;
          abort();
          return;
        }
        const o = obj as T;
        const rv = o?.metadata?.resourceVersion;
        if (type === 'BOOKMARK') {
          if (rv) this.resourceVersion = rv;
          return;
        }
        const slimmed = slim(o);
        const key = objectKey(slimmed);
        const prev = this.store.get(key);
        if (type === 'DELETED') {
          this.store.delete(key);
          this.opts.onChange('delete', slimmed, prev);
        } else if (type === 'ADDED' || type === 'MODIFIED') {
          this.store.set(key, slimmed);
          this.opts.onChange(prev ? 'update' : 'add', slimmed, prev);
        }
        if (rv) this.resourceVersion = rv;
      };
      let finished = false;
      const done = (err: unknown) => {
        finished = true;
        this.current = undefined;
        if (gone || httpStatusOf(err) === 410) {
          this.needList = true;
          resolve('gone');
        } else if (this.needList) resolve('watchdog');
        else if (err && (err as Error).name === 'TimeoutError') resolve('timeout');
        else if (err && (err as Error).name !== 'AbortError') {
          this.opts.hooks?.onError?.(this.opts.resource, err);
          resolve('error');
        } else resolve('closed');
      };
      this.opts.watch(this.opts.watchPath, query, onEvent, done, this.opts.watchAccept).then(
        (c) => {
          ctrl = c;
          if (finished) return;
          this.current = c;
          this.lastActivity = Date.now();
          if (this.stopped || abortRequested) c.abort();
        },
        (err: unknown) => done(err),
      );
    });
  }
}
