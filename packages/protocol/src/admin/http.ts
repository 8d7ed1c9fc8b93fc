import { z } from 'zod'

/** The gateway's basic HTTP answers: health, readiness, the error envelope, and the dashboard's headers. */

export const HealthStatus = z.enum(['ok', 'degraded', 'draining'])

export const Health = z.object({
  status: HealthStatus,
  connections: z.number().int().nonnegative(),
  connected_agents: z.number().int().nonnegative(),
  uptime_s: z.number().nonnegative(),
  version: z.string(),
  timestamp: z.string(),
})
export type Health = z.infer<typeof Health>

export const Readiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), message: z.string().optional() })),
})
export type Readiness = z.infer<typeof Readiness>

/** Body of every HTTP error answer: the same envelope as the `error` frame, under `error`. */
export const HttpError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    retryAfterMs: z.number().optional(),
  }),
})
export type HttpError = z.infer<typeof HttpError>

/**
 * Headers of the dashboard server's calls to the gateway. With the secret both are configured with, the
 * gateway takes the browser's address from the second one (for the failed-auth limit and the session list).
 */
export const DASHBOARD_SECRET_HEADER = 'x-parley-dashboard-secret'
export const CLIENT_ADDRESS_HEADER = 'x-parley-client-address'
