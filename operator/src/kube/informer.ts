/**
 * A small self-healing informer: list, then watch from the list's
 * resourceVersion with bookmarks; relist on 410 Gone; never stop until stop()
 * is called. Handlers only get told about changes; they must not do I/O themselves.
 *
 * Under a misbehaving API server it must not add load: every failure waits by
 * the shared backoff (kube/backoff.ts), which grows while failures go on and
 * resets only after sustained success. Failures are: a list or watch request
 * that fails, an ERROR event (410 means relist, after the backoff too: a
 * flapping watch must not loop through lists), and a watch that the server
 * closes within a second without an event (client-go's "very short watch").
 * A Retry-After from the server (a 429 answer or ERROR event) is a floor.
 *
 * Lists are served from the API server's watch cache (docs/operations.md,
 * "Relists"): the first one asks for any version (resourceVersion=0), later
 * ones for a version not older than the last one seen, and only when the cache
 * cannot serve that does a list read consistently (resourceVersion unset).
 *
 * Written instead of client-node's makeInformer, which stops for good on any
 * non-410 error, asks for no bookmarks and mixes Date and string timestamps.
 * The transport (KubeClient.watch) is separate, so tests can drive events.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Backoff, type BackoffPolicy, sleep } from './backoff.ts';
import { httpStatusOf, isResourceVersionUnavailable, retryAfterMs, watchEventError } from './errors.ts';

export type EventType = 'add' | 'update' | 'delete';

/** The query of one list request (the informer's list function adds its selectors). */
export interface ListQuery {
  limit: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan';
}

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
  list(query: ListQuery): Promise<ListPage<T>>;
  /** API path to watch, e.g. /apis/apps/v1/deployments. */
  watchPath: string;
  labelSelector?: string;
  /** e.g. `metadata.name=x` to watch one object (RBAC resourceNames then authorize the watch). */
  fieldSelector?: string;
  /** Accept header of the watch (the list function sets its own), e.g. CONTENT_TYPE.metadata. */
  watchAccept?: string;
  /** Keeps only what the operator reads of each object (pods: their status), before it is cached. */
  transform?: (obj: T) => T;
  watch: WatchFn;
  onChange(type: EventType, obj: T, old: T | undefined): void;
  hooks?: InformerHooks;
  /** Backoff after failures; INFORMER_BACKOFF where unset. */
  backoff?: Partial<BackoffPolicy>;
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

/**
 * client-go's reflector backoff, with the operator's jitter: 1 s doubling to 30 s, forgotten after
 * two minutes of success.
 */
export const INFORMER_BACKOFF: BackoffPolicy = {
  baseMs: 1000,
  capMs: 30_000,
  jitter: 0.2,
  resetAfterMs: 120_000,
};

/** A watch that ends sooner than this without any event failed, though it ended cleanly. */
export const SHORT_WATCH_MS = 1000;

/** A Retry-After longer than this is cut to it: a broken server must not park a watch for hours. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The version a (re)list asks for. Any version from the watch cache at first; after that, from the
 * cache but never older than `lastSeen`, so the cache cannot take us back in time; a consistent
 * read (no resourceVersion) only once the cache could not serve that.
 */
export function relistVersion(
  lastSeen: string,
  cacheCannotServe: boolean,
): Pick<ListQuery, 'resourceVersion' | 'resourceVersionMatch'> {
  if (cacheCannotServe) return {};
  if (lastSeen === '') return { resourceVersion: '0' };
  return { resourceVersion: lastSeen, resourceVersionMatch: 'NotOlderThan' };
}

/** How a watch ended: the reason is what watch_restarts_total counts. */
type WatchEnd =
  | { reason: 'closed' | 'gone' | 'timeout' | 'watchdog' }
  | { reason: 'error'; waitAtLeastMs: number };

export function objectKey(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
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

  /** What the cache holds of an object: no managed fields, and only what `transform` keeps. */
  private keep(o: T): T {
    const slimmed = slim(o);
    return this.opts.transform ? this.opts.transform(slimmed) : slimmed;
  }
  private readonly store = new Map<string, T>();
  private readonly backoff: Backoff;
  /** Aborted by stop(): ends a backoff pause at once. */
  private readonly stopping = new AbortController();
  private resourceVersion = '';
  private needList = true;
  /** The last list failed because the watch cache could not serve its version. */
  private cacheCannotServe = false;
  private synced = false;
  private stopped = false;
  private current: AbortController | undefined;
  private lastActivity = Date.now();
  private loop: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.backoff = new Backoff(
      { ...INFORMER_BACKOFF, ...opts.backoff },
      opts.random ? { random: opts.random } : {},
    );
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
    this.stopping.abort();
    await this.loop;
  }

  /** Waits out one failure's backoff (at least `retryAfter` ms), or until stop(). */
  private pauseAfterFailure(retryAfter = 0): Promise<void> {
    return sleep(this.backoff.failed(Math.min(retryAfter, MAX_RETRY_AFTER_MS)), this.stopping.signal);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.needList) {
        try {
          await this.relist();
          this.backoff.succeeded();
        } catch (e) {
          if (this.stopped) break;
          this.cacheCannotServe = isResourceVersionUnavailable(e);
          this.opts.hooks?.onError?.(this.opts.resource, e);
          await this.pauseAfterFailure(retryAfterMs(e));
          continue;
        }
      }
      if (this.stopped) break;
      const end = await this.watchOnce();
      if (this.stopped) break;
      this.opts.hooks?.onRestart?.(this.opts.resource, end.reason);
      if (end.reason === 'gone') {
        this.needList = true;
        await this.pauseAfterFailure();
      } else if (end.reason === 'error') {
        await this.pauseAfterFailure(end.waitAtLeastMs);
      }
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    const version = relistVersion(this.resourceVersion, this.cacheCannotServe);
    let cont: string | undefined;
    let rv = '';
    do {
      // A continued page carries no version: the continue token pins the list's snapshot.
      const page = await this.opts.list({
        limit: this.opts.pageSize ?? 500,
        ...(cont ? { continue: cont } : version),
      });
      for (const raw of page.items) {
        const o = this.keep(raw);
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
    this.cacheCannotServe = false;
    this.synced = true;
    this.lastActivity = Date.now();
  }

  /** One watch connection; resolves with how it ended. */
  private watchOnce(): Promise<WatchEnd> {
    return new Promise((resolve) => {
      const openedAt = Date.now();
      let events = 0;
      /** The failure an ERROR event reported. */
      let reported: unknown;
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
          reported = watchEventError(obj);
          abort();
          return;
        }
        // The first event proves the watch works: a run of success starts.
        if (events++ === 0) this.backoff.succeeded();
        const o = obj as T;
        const rv = o?.metadata?.resourceVersion;
        if (type === 'BOOKMARK') {
          if (rv) this.resourceVersion = rv;
          return;
        }
        const slimmed = this.keep(o);
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
        resolve(this.watchEnd(reported ?? err, Date.now() - openedAt, events));
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

  /** Why a watch that lasted `ms` and delivered `events` ended with `err` (null: the server closed it). */
  private watchEnd(err: unknown, ms: number, events: number): WatchEnd {
    if (httpStatusOf(err) === 410) return { reason: 'gone' };
    if (this.needList) return { reason: 'watchdog' };
    if (this.stopped) return { reason: 'closed' };
    const name = err instanceof Error ? err.name : undefined;
    if (name === 'TimeoutError') return { reason: 'timeout' };
    if (err && name !== 'AbortError') {
      this.opts.hooks?.onError?.(this.opts.resource, err);
      return { reason: 'error', waitAtLeastMs: retryAfterMs(err) };
    }
    if (ms < SHORT_WATCH_MS && events === 0) {
      this.opts.hooks?.onError?.(
        this.opts.resource,
        new Error(`the watch closed after ${ms} ms without an event`),
      );
      return { reason: 'error', waitAtLeastMs: 0 };
    }
    this.backoff.succeeded();
    return { reason: 'closed' };
  }
}
