import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  test: {
    // Component tests (`*.test.tsx`) render in happy-dom; everything else runs in Node.
    environment: 'node',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    // A hang guard: rendering in happy-dom takes seconds per test on a loaded machine (scripts/stress-test.sh).
    testTimeout: 30_000,
  },
})
