import { defineConfig } from 'vitest/config';

// Unit tests sit beside their code as *.test.ts; whole-platform tests live in test/ as *.e2e.ts.
export default defineConfig({
  test: {
    include: ['**/*.test.ts', 'test/**/*.e2e.ts'],
    exclude: ['**/node_modules/**', '.folio-data/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
