import { defineConfig } from 'vitest/config';

// Four suites, selected with `vitest run --project <name>`:
// - unit: pure logic, no processes, no sockets beyond loopback in-process servers;
// - integration: anything that crosses a process boundary (control plane, Postgres, server processes);
// - browser: real Chromium driven by playwright-core;
// - e2e: the images in real pods on a real one-node cluster (test/harness/cluster.ts; root).
const exclude = ['**/node_modules/**', '**/frontend-dist/**', '.tools/**', 'bin/**', 'dist/**'];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{webui,operator,test,bench}/**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.browser.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{webui,operator,test,charts}/**/*.int.test.ts'],
          exclude,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Each file starts its own control plane or server processes; two cores
          // cannot run many of those at once.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['{webui,test}/**/*.browser.test.ts'],
          exclude,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          exclude,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // One node per machine: the files take turns.
          fileParallelism: false,
          // The journey's steps build on each other (sign-up, then chat, then rotate ...).
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
