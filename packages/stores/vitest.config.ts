import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // PGlite boots a WASM Postgres per database; the first start in a worker takes a few seconds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
