import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from '@playwright/test'
import { E2E } from './e2e-env.js'

// The gateway runs from its build on an in-memory database with a known admin token; the dashboard runs
// from its production build pointed at that gateway. `pnpm e2e` builds both (Turborepo) before this runs.
const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'))

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: E2E.dashboardUrl,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Playwright cannot download browsers here: use Debian's Chromium, with the flags that keep it
      // from calling home on a machine without internet.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    {
      command: `node ../apps/gateway/dist/cli.js serve --port ${E2E.gatewayPort} --database-url memory:// --data-dir ${dataDir}`,
      url: `${E2E.gatewayUrl}/health`,
      timeout: 600_000,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        PARLEY_ADMIN_TOKEN: E2E.adminToken,
        PARLEY_DASHBOARD_SECRET: E2E.dashboardSecret,
        PARLEY_AUTH_FAILURE_LIMIT: String(E2E.authFailureLimit),
        PARLEY_DASHBOARD_URL: E2E.dashboardUrl,
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_DELIVERY_ACK_TIMEOUT: String(E2E.delivery.ackTimeoutSeconds),
        PARLEY_DELIVERY_MAX_RETRIES: String(E2E.delivery.maxRetries),
        PARLEY_DELIVERY_RETRY_DELAY: String(E2E.delivery.retryDelaySeconds),
        PARLEY_DELIVERY_RETRY_BACKOFF: '1',
        PARLEY_PAIRING_DEFAULT_POLICY: E2E.pairing.defaultPolicy,
        PARLEY_PAIRING_MAX_FAILED_ATTEMPTS: String(E2E.pairing.maxFailedAttempts),
        PARLEY_CAPTURE_AGENTS: E2E.capture.agents,
        PARLEY_CAPTURE_REDACT: E2E.capture.redact,
        // The Audit page's badge names the last signed checkpoint: sign one a second while rows are appended.
        PARLEY_AUDIT_CHECKPOINT_INTERVAL: '1',
        NEXT_TELEMETRY_DISABLED: '1',
      },
    },
    {
      command: `pnpm --dir ../apps/dashboard exec next start --port ${E2E.dashboardPort} --hostname 127.0.0.1`,
      url: `${E2E.dashboardUrl}/login`,
      timeout: 600_000,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        PARLEY_GATEWAY_URL: E2E.gatewayUrl,
        PARLEY_DASHBOARD_SECRET: E2E.dashboardSecret,
        NEXT_TELEMETRY_DISABLED: '1',
      },
    },
  ],
})
