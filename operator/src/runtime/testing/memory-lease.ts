// An in-memory LeaseStore for tests: real optimistic concurrency (resourceVersion
// checks) and switchable API failures.
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
  writes: LeaseWrite[] = [];
  private rv = 0;

  async get(): Promise<LeaseRecord | null> {
    if (this.failing) throw new Error('api unavailable');
    return this.record ? { ...this.record } : null;
  }
  async create(record: LeaseWrite): Promise<LeaseRecord> {
    if (this.failing) throw new Error('api unavailable');
    if (this.record) throw new LeaseConflictError('exists');
    return this.store(record);
  }
  async update(record: LeaseWrite, resourceVersion: string): Promise<LeaseRecord> {
    if (this.failing) throw new Error('api unavailable');
    if (!this.record || this.record.resourceVersion !== resourceVersion)
      throw new LeaseConflictError('conflict');
    return this.store(record);
  }
  private store(record: LeaseWrite): LeaseRecord {
    this.writes.push(record);
    this.rv += 1;
    this.record = { ...record, resourceVersion: String(this.rv) };
    return { ...this.record };
  }
}
