import { defineConfig } from 'vitest/config';

// The optional k3s end-to-end suite (`make e2e-k3s`). Its file is named *.e2e.ts so that none of the
// unit/integration/browser globs of the main vitest.config.ts pick it up: it needs a Docker or Podman
// engine and several minutes, and where none exists its tests are reported as skipped.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
    fileParallelism: false,
    // Lists each test, so the skipped ones and their reason show up in the output.
    reporters: ['verbose'],
  },
});
