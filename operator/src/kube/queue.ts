/**
 * A keyed, deduplicating work queue in the style of client-go's workqueue:
 * - adding a key that is already waiting is a no-op;
 * - a key is never processed by two workers at once; adding it while it runs
 *   marks it dirty and it runs once more afterwards;
 * - failures requeue with per-key exponential backoff (kube/backoff.ts), success forgets it;
 * - a PermanentError is not retried: the key waits until something adds it again;
 * - a handler may ask to run again after a delay (requeueAfterMs).
 */
import { Backoff, type BackoffPolicy, backoffDelay } from './backoff.ts';

/**
 * A failure that retrying cannot fix (a spec that cannot be rendered): the key is dropped until
 * its next add (an edit of the object) instead of being retried with backoff forever.
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** 0.5 s doubling to 5 min; a success forgets the key's failures. */
export const QUEUE_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 5 * 60_000, jitter: 0.2, resetAfterMs: 0 };

export interface HandlerResult {
  requeueAfterMs?: number;
}

export interface QueueHooks {
  onDepth?(depth: number): void;
  onAdd?(): void;
  /** One handler run finished. */
  onDone?(key: string, result: 'success' | 'error' | 'requeue', seconds: number): void;
  onError?(key: string, err: unknown): void;
}

export interface WorkQueueOptions {
  handler(key: string): Promise<HandlerResult | undefined>;
  concurrency?: number;
  /** QUEUE_BACKOFF where unset. */
  backoff?: Partial<BackoffPolicy>;
  hooks?: QueueHooks;
  random?: () => number;
}

export class WorkQueue {
  private readonly opts: WorkQueueOptions;
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly backoffPolicy: BackoffPolicy;
  /** Keys whose last run failed. */
  private readonly failing = new Map<string, Backoff>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private running = 0;
  private started = false;
  private shuttingDown = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.opts = opts;
    this.backoffPolicy = { ...QUEUE_BACKOFF, ...opts.backoff };
  }

  get depth(): number {
    return this.waiting.length;
  }

  /** Keys waiting, running or scheduled for later. */
  get size(): number {
    return this.queued.size + this.processing.size + this.timers.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiting.push(key);
    this.opts.hooks?.onAdd?.();
    this.opts.hooks?.onDepth?.(this.waiting.length);
    this.pump();
  }

  /** Adds the key after a delay; an earlier pending schedule for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  failureCount(key: string): number {
    return this.failing.get(key)?.failures ?? 0;
  }

  backoffMs(failures: number): number {
    return backoffDelay(this.backoffPolicy, failures, (this.opts.random ?? Math.random)());
  }

  start(): void {
    this.started = true;
    this.pump();
  }

  /** Stops taking keys and waits (up to deadlineMs) for in-flight handlers. */
  async shutdown(deadlineMs = 30_000): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    this.queued.clear();
    if (this.running === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref()),
    ]);
  }

  /** Resolves when nothing is waiting or running (scheduled retries may remain). For tests. */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private newBackoff(): Backoff {
    return new Backoff(this.backoffPolicy, this.opts.random ? { random: this.opts.random } : {});
  }

  private pump(): void {
    if (!this.started) return;
    const concurrency = this.opts.concurrency ?? 1;
    while (this.running < concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift() as string;
      this.queued.delete(key);
      this.opts.hooks?.onDepth?.(this.waiting.length);
      this.processing.add(key);
      this.running++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const started = performance.now();
    let outcome: 'success' | 'error' | 'requeue' = 'success';
    try {
      const res = await this.opts.handler(key);
      this.failing.delete(key);
      if (res?.requeueAfterMs !== undefined) {
        outcome = 'requeue';
        this.addAfter(key, res.requeueAfterMs);
      }
    } catch (e) {
      outcome = 'error';
      this.opts.hooks?.onError?.(key, e);
      if (e instanceof PermanentError) {
        this.failing.delete(key);
      } else {
        const backoff = this.failing.get(key) ?? this.newBackoff();
        this.failing.set(key, backoff);
        this.addAfter(key, backoff.failed());
      }
    } finally {
      this.opts.hooks?.onDone?.(key, outcome, (performance.now() - started) / 1000);
      this.processing.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.running === 0 && (this.waiting.length === 0 || this.shuttingDown)) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
