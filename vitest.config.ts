import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Model inference is CPU-bound and this project targets 2-core machines: run test files in
    // two workers so that process-level tests (which start servers) do not starve each other.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
