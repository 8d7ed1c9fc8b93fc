import { defineConfig } from '@playwright/test'
import base from './playwright.config.js'

/**
 * `pnpm --filter @parley/e2e screenshots`: the same gateway and dashboard as the suite, but only the
 * screenshot script (screenshots/), which writes docs/screenshots/*.png. Not part of `pnpm e2e`.
 */
export default defineConfig({
  ...base,
  testDir: './screenshots',
  timeout: 600_000,
  reporter: [['list']],
})
