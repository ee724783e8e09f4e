import { describe, expect, it } from 'vitest';
import type { ManagedController } from './lifecycle.ts';
import { managedGroup } from './managed-group.ts';

function part(name: string, calls: string[], state = { synced: true, running: true }): ManagedController {
  return {
    startInformers: () => void calls.push(`${name}.startInformers`),
    hasSynced: () => state.synced,
    startWorkers: () => void calls.push(`${name}.startWorkers`),
    workersRunning: () => state.running,
    drain: async () => void calls.push(`${name}.drain`),
    stopInformers: async () => void calls.push(`${name}.stopInformers`),
    watchSilenceMs: () => ({ [name]: 1 }),
  };
}

describe('managedGroup', () => {
  it('starts, drains and stops every part', async () => {
    const calls: string[] = [];
    const g = managedGroup([part('a', calls), part('b', calls)]);
    await g.startInformers();
    g.startWorkers();
    await g.drain();
    await g.stopInformers();
    expect(calls).toEqual([
      'a.startInformers',
      'b.startInformers',
      'a.startWorkers',
      'b.startWorkers',
      'a.drain',
      'b.drain',
      'a.stopInformers',
      'b.stopInformers',
    ]);
    expect(g.watchSilenceMs?.()).toEqual({ a: 1, b: 1 });
  });

  it('is synced and running only when every part is', () => {
    const b = { synced: false, running: false };
    const g = managedGroup([part('a', []), part('b', [], b)]);
    expect(g.hasSynced()).toBe(false);
    expect(g.workersRunning()).toBe(false);
    b.synced = true;
    b.running = true;
    expect(g.hasSynced()).toBe(true);
    expect(g.workersRunning()).toBe(true);
  });
});
