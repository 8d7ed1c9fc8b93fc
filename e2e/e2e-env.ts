/**
 * Ports: 8790 and 3090 unless `PARLEY_E2E_GATEWAY_PORT` / `PARLEY_E2E_DASHBOARD_PORT` say otherwise, so two
 * checkouts on one machine can run their suites side by side.
 */
function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${name} must be a TCP port`)
  return port
}

const gatewayPort = portFromEnv('PARLEY_E2E_GATEWAY_PORT', 8790)
const dashboardPort = portFromEnv('PARLEY_E2E_DASHBOARD_PORT', 3090)

/** Ports and credentials shared by the Playwright config and the tests. */
export const E2E = {
  gatewayPort,
  dashboardPort,
  gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
  wsUrl: `ws://127.0.0.1:${gatewayPort}/ws`,
  dashboardUrl: `http://127.0.0.1:${dashboardPort}`,
  adminToken: 'e2e-admin-token-0123456789abcdef',
  /** Shared by the gateway and the dashboard: the dashboard names each browser's address to the gateway. */
  dashboardSecret: 'e2e-dashboard-secret-0123456789abcdef',
  /** Failed logins allowed per browser (and per token) within a minute: the gateway's default. */
  authFailureLimit: 10,
  /**
   * Deliveries are dead-lettered within a second (1 + maxRetries refused attempts, short retry delay), so the
   * delivery tests need not wait. No other test uses deliveries, so the other tests are unaffected.
   */
  delivery: { ackTimeoutSeconds: 5, maxRetries: 2, retryDelaySeconds: 0.2 },
  /**
   * Chat pairing: every channel type is under the `pair` policy (the gateway's default, set explicitly), and
   * a request refuses codes after 3 wrong ones, so the brute-force test is short.
   */
  pairing: { defaultPolicy: 'pair', maxFailedAttempts: 3 },
  /**
   * Payload capture (conversation replay) only for agents named `e2e-replay-…`, with `password` fields
   * redacted at any depth: the other tests' exchanges are not captured.
   */
  capture: { agents: 'e2e-replay-*', redact: '$..password' },
} as const
