/**
 * Several controllers under one lifecycle (the WebUI controller and the seed applier): they start,
 * become ready, drain and stop together, so leader election and shutdown keep one visible place.
 */
import type { ManagedController } from './lifecycle.ts';

export function managedGroup(parts: readonly ManagedController[]): ManagedController {
  return {
    async startInformers() {
      await Promise.all(parts.map((p) => p.startInformers()));
    },
    hasSynced: () => parts.every((p) => p.hasSynced()),
    startWorkers() {
      for (const p of parts) p.startWorkers();
    },
    workersRunning: () => parts.every((p) => p.workersRunning()),
    async drain() {
      await Promise.all(parts.map((p) => p.drain()));
    },
    async stopInformers() {
      await Promise.all(parts.map((p) => p.stopInformers()));
    },
    watchSilenceMs: () => Object.assign({}, ...parts.map((p) => p.watchSilenceMs?.() ?? {})),
  };
}
