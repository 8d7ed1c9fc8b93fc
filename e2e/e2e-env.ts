/** Ports and credentials shared by the Playwright config and the tests. */
export const E2E = {
  gatewayPort: 8790,
  dashboardPort: 3090,
  gatewayUrl: 'http://127.0.0.1:8790',
  wsUrl: 'ws://127.0.0.1:8790/ws',
  dashboardUrl: 'http://127.0.0.1:3090',
  adminToken: 'e2e-admin-token-0123456789abcdef',
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
} as const
