import { defineConfig } from 'vitest/config';

/** `npm run test:e2e`: chromium against the built renderer; apart from `npm test` (*.e2e.ts, not *.test.ts). */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/e2e/buildOnce.ts'],
  },
});
