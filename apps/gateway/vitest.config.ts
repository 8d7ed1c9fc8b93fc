import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Hang guards, not measurements: a test on PGlite (a WASM Postgres booted per gateway) takes several times
    // longer on a loaded machine (scripts/stress-test.sh). Waits on events inside tests keep their own bounds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
