/**
 * Informers that fill caches, and a work queue whose handler reads them: what the WebUI controller
 * and the seed applier share, and what the process lifecycle drives (runtime/lifecycle.ts). Every
 * replica runs the informers (warm caches make a takeover fast); the workers run only once started
 * (on the leader) and once every cache has synced: working from a partial cache would recreate
 * objects that exist.
 */

import { type HandlerResult, WorkQueue, type WorkQueueOptions } from '../kube/queue.ts';
import type { ManagedController } from './lifecycle.ts';

/** What is needed of an informer here. */
export interface Cache {
  readonly resource: string;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  silenceMs(): number;
}

export abstract class CachedQueue implements ManagedController {
  protected readonly queue: WorkQueue;
  private workersWanted = false;

  constructor(queue: Omit<WorkQueueOptions, 'handler'>) {
    this.queue = new WorkQueue({ ...queue, handler: (key) => this.handle(key) });
  }

  /** Works on one key (the queue retries a failure with backoff). */
  protected abstract handle(key: string): Promise<HandlerResult | undefined>;

  /** The informers whose caches `handle` reads. */
  protected abstract caches(): readonly Cache[];

  startInformers(): void {
    for (const c of this.caches()) c.start();
  }

  hasSynced(): boolean {
    return this.caches().every((c) => c.hasSynced());
  }

  startWorkers(): void {
    if (this.workersWanted) return;
    this.workersWanted = true;
    const begin = () => {
      if (!this.workersWanted) return;
      if (this.hasSynced()) this.queue.start();
      else setTimeout(begin, 50).unref();
    };
    begin();
  }

  workersRunning(): boolean {
    return this.workersWanted && this.hasSynced();
  }

  /** Stops taking keys and waits (up to deadlineMs) for the ones in flight. */
  async drain(deadlineMs = 20_000): Promise<void> {
    this.workersWanted = false;
    await this.queue.shutdown(deadlineMs);
  }

  async stopInformers(): Promise<void> {
    await Promise.all(this.caches().map((c) => c.stop()));
  }

  watchSilenceMs(): Record<string, number> {
    return Object.fromEntries(this.caches().map((c) => [c.resource, c.silenceMs()]));
  }

  /** Starts everything (single replica, no leader election). */
  start(): void {
    this.startInformers();
    this.startWorkers();
  }

  async stop(): Promise<void> {
    await this.drain();
    await this.stopInformers();
  }

  /** For tests: resolves when no key is waiting or being worked on. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }
}
