import { defineConfig } from 'vitest/config';

// Three suites, selected with `vitest run --project <name>`:
// - unit: pure logic, no processes, no sockets beyond loopback in-process servers;
// - integration: anything that crosses a process boundary (control plane, Postgres, server processes);
// - browser: real Chromium driven by playwright-core.
const exclude = ['**/node_modules/**', '**/frontend-dist/**', '.tools/**', 'bin/**', 'dist/**'];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{webui,operator,test,bench}/**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.browser.test.ts'],
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
    ],
  },
});
