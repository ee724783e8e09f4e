// An in-memory LeaseStore for tests: real optimistic concurrency (resourceVersion
// checks), switchable API failures, and calls that hang until they are aborted.
import {
  LeaseConflictError,
  type LeaseRecord,
  type LeaseStore,
  type LeaseWrite,
} from '../leader-election.ts';

export class MemoryLease implements LeaseStore {
  readonly description = 'memory lease';
  record: LeaseRecord | null = null;
  failing = false;
  /** Calls never answer, as against a stalled API server, until their signal aborts them. */
  hanging = false;
  /** Hung calls still waiting, and hung calls their caller aborted. */
  pending = 0;
  aborted = 0;
  writes: LeaseWrite[] = [];
  private rv = 0;

  async get(signal?: AbortSignal): Promise<LeaseRecord | null> {
    await this.answer(signal);
    return this.record ? { ...this.record } : null;
  }
  async create(record: LeaseWrite, signal?: AbortSignal): Promise<LeaseRecord> {
    await this.answer(signal);
    if (this.record) throw new LeaseConflictError('exists');
    return this.store(record);
  }
  async update(record: LeaseWrite, resourceVersion: string, signal?: AbortSignal): Promise<LeaseRecord> {
    await this.answer(signal);
    if (!this.record || this.record.resourceVersion !== resourceVersion)
      throw new LeaseConflictError('conflict');
    return this.store(record);
  }
  private answer(signal: AbortSignal | undefined): Promise<void> {
    if (this.failing) return Promise.reject(new Error('api unavailable'));
    if (!this.hanging) return Promise.resolve();
    this.pending += 1;
    return new Promise((_, reject) => {
      signal?.addEventListener(
        'abort',
        () => {
          this.pending -= 1;
          this.aborted += 1;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
  private store(record: LeaseWrite): LeaseRecord {
    this.writes.push(record);
    this.rv += 1;
    this.record = { ...record, resourceVersion: String(this.rv) };
    return { ...this.record };
  }
}
